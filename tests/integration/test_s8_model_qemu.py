"""Whole int8 CNNs through `hil import` and `hil run` on qemu-m7 (DSP), qemu-m3 (plain C)
and qemu-m55 (Helium): every layer bit-exact against the s8 reference, the accuracy
line with the float model, repeatable counts, and a broken kernel pointed at.

The trained LeNet-5 comes from examples/lenet5_mnist/to_int8_tflite.py (run here);
the small CNN (tests/helpers/s8_models.py) carries the operators LeNet-5 lacks:
depthwise, average pooling, a per-tensor fully connected layer, a fused RELU6.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hil.cli import main
from hil.model.tflite.writer import serialise

from helpers.s8_models import small_cnn

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]
ROOT = Path(__file__).resolve().parents[2]
BOARDS = ["qemu-m7", "qemu-m3", "qemu-m55"]
DIGITS = 24


def _cli(args: list, capsys) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, " ".join(capsys.readouterr().out.split())


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("s8-models")
    script = ROOT / "examples" / "lenet5_mnist" / "to_int8_tflite.py"
    subprocess.run([sys.executable, str(script), str(d)], check=True, capture_output=True)
    np.save(d / "x.npy", np.load(d / "mnist_test_x.npy")[:DIGITS])
    np.save(d / "y.npy", np.load(d / "mnist_test_y.npy")[:DIGITS])
    (d / "cnn.tflite").write_bytes(serialise(small_cnn(seed=3)[0]))
    for stem, tflite in (("lenet5", "lenet5_mnist_int8.tflite"), ("cnn", "cnn.tflite")):
        assert main(["import", str(d / tflite), "--out", str(d / f"{stem}.toml")]) == 0
    return {"dir": d, "lenet5": d / "lenet5.toml", "cnn": d / "cnn.toml"}


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hil-build-s8-models")


@pytest.mark.parametrize("board", BOARDS)
def test_trained_lenet5_runs_bit_exactly_with_its_accuracy(models, build_root, board, capsys):
    d = models["dir"]
    code, text = _cli(
        ["run", "--model", models["lenet5"], "--board", board, "--build-dir", build_root,
         "--inputs", d / "x.npy", "--labels", d / "y.npy",
         "--float", d / "lenet5_mnist_float.tflite"],
        capsys,
    )  # fmt: skip
    assert code == 0, text
    assert f"PASS: {DIGITS} of {DIGITS} vectors x 8 layers" in text
    assert "reference variant double" in text
    assert f"{DIGITS} float inputs quantised to int8" in text
    m = re.search(
        r"accuracy: float (\S+)%, int8 reference (\S+)%, device (\S+)% \((\d+) inputs\)", text
    )
    assert m, text
    assert m.group(2) == m.group(3) and int(m.group(4)) == DIGITS  # the device is the reference
    assert "quantisation diagnostics (int8 reference, dequantised, vs float model" in text


@pytest.mark.parametrize("board", BOARDS)
def test_every_s8_operator_runs_bit_exactly(models, build_root, board, tmp_path, capsys):
    report = tmp_path / "r.json"
    args = ["run", "--model", models["cnn"], "--board", board, "--build-dir", build_root,
            "--vectors", 3, "--json", report]  # fmt: skip
    code, text = _cli(args, capsys)
    assert code == 0, text
    layers = json.loads(report.read_text())["layers"]
    assert {layer["function"] for layer in layers} == {
        "arm_convolve_wrapper_s8", "arm_depthwise_conv_wrapper_s8", "arm_max_pool_s8",
        "arm_avgpool_s8", "arm_fully_connected_per_channel_s8", "arm_fully_connected_s8",
        "arm_softmax_s8",
    }  # fmt: skip
    assert all(layer["matched"] == 3 for layer in layers)
    if board == "qemu-m55":  # instruction counts are exact: a second run gives the same
        again = tmp_path / "again.json"
        assert _cli([*args[:-1], again], capsys)[0] == 0
        counts = [[layer["count"] for layer in json.loads(p.read_text())["layers"]]
                  for p in (report, again)]  # fmt: skip
        assert counts[0] == counts[1] and all(c > 0 for c in counts[0])


def test_a_broken_s8_kernel_is_pointed_at(models, build_root, tmp_path, capsys):
    report = tmp_path / "r.json"
    code, text = _cli(
        ["run", "--model", models["lenet5"], "--board", "qemu-m7", "--build-dir", build_root,
         "--vectors", 2, "--inject-fault", "conv2:off-by-one", "--json", report],
        capsys,
    )  # fmt: skip
    assert code != 0
    assert "first wrong kernel: layer 2 conv2 (arm_convolve_wrapper_s8)" in text
    data = json.loads(report.read_text())
    assert data["first_wrong_kernel"]["index"] == 2


def test_a_single_rounding_image_is_matched_by_the_host(models, build_root, capsys):
    code, text = _cli(
        ["run", "--model", models["cnn"], "--board", "qemu-m7", "--build-dir", build_root,
         "--vectors", 2, "--rounding", "single"],
        capsys,
    )  # fmt: skip
    assert code == 0, text
    assert "reference variant single" in text


def test_build_flash_and_soak_take_the_rounding(models, build_root, capsys):
    """A single-rounding image can be built and flashed on its own, and soaked."""
    common = ["--model", models["cnn"], "--board", "qemu-m7", "--build-dir", build_root]
    code, text = _cli(["build", *common, "--rounding", "single"], capsys)
    assert code == 0, text
    code, text = _cli(["flash", *common, "--rounding", "single"], capsys)
    assert code == 0, text
    assert "single rounding" in text  # what the image's HELLO says
    code, text = _cli(["flash", *common], capsys)
    assert code == 0 and "double rounding" in text, text
    code, text = _cli(["soak", *common, "--rounding", "single", "-n", 2], capsys)
    assert code == 0 and "PASS: 2 of 2 vectors" in text, text


def test_an_s8_soak_through_link_faults_passes(models, build_root, capsys):
    code, text = _cli(
        ["soak", "--model", models["cnn"], "--board", "qemu-m7", "--build-dir", build_root,
         "-n", 4, "--link-faults", "drop=0.002"],
        capsys,
    )  # fmt: skip
    assert code == 0, text
    assert "PASS: 4 of 4 vectors x 8 layers" in text and "dropped" in text
