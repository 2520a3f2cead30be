"""`hil run --inject-fault`: a firmware build variant whose conv2 is wrong on purpose.

The corruption happens in the device's own buffer, so the layers before conv2
match, conv2 mismatches, and the report's JSON says which fault was built in.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hil.cli import main
from hil.errors import MismatchError

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]

CONV2 = 3  # lenet5: conv1, relu1, pool1, conv2, ...


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hil-inject-fault")


def _run(
    build_root: Path, capsys, fault: str, vectors: int, *, model: str = "lenet5", extra=()
) -> tuple[int, str, dict]:
    report = build_root / f"{model}-{fault.replace(':', '-')}.json"
    code = main(
        [
            "run",
            *("--board", "qemu-m3", "--model", model),
            *(extra or ("--vectors", str(vectors))),
            *("--dump", "all", "--json", str(report), "--build-dir", str(build_root)),
            *("--inject-fault", fault),
        ]
    )
    out = capsys.readouterr()
    return code, out.out + out.err, json.loads(report.read_text())


def test_off_by_one_in_conv2_mismatches_from_conv2_on(build_root, capsys):
    code, text, report = _run(build_root, capsys, "conv2:off-by-one", 2)
    assert code == MismatchError.exit_code
    assert "fault injected: conv2 (layer 3) off-by-one (build variant)" in text
    assert report["info"]["device"]["inject_fault"] == {
        "layer": CONV2,
        "name": "conv2",
        "kind": "off-by-one",
    }
    layers = report["layers"]
    for layer in layers[:CONV2]:
        assert layer["matched"] == 2 and layer["mismatching_elements"] == 0, layer["name"]
    conv2 = layers[CONV2]
    assert conv2["name"] == "conv2" and conv2["matched"] == 0
    assert conv2["max_abs_diff"] == 1
    first = conv2["first_failure"]
    assert first["got"] == min(first["expected"] + 1, 127)
    assert "first wrong kernel: layer 3 conv2" in text


def test_bit_flip_in_conv2_mismatches_exactly_one_element(build_root, capsys):
    code, _text, report = _run(build_root, capsys, "3:bit-flip", 1)
    assert code == MismatchError.exit_code
    layers = report["layers"]
    assert all(layer["mismatching_elements"] == 0 for layer in layers[:CONV2])
    conv2 = layers[CONV2]
    assert conv2["mismatching_elements"] == 1
    first = conv2["first_failure"]
    assert first["index"] == 0 and first["got"] == first["expected"] ^ 1


def test_no_saturation_wraps_the_elements_that_clip(build_root, capsys):
    # Inputs at the rails drive conv1's accumulators past its output range, so some
    # of its outputs clip; the fault wraps exactly those.
    rng = np.random.default_rng(1)
    extreme = rng.choice(np.array([-128, 127], dtype=np.int8), size=(1, 32, 32, 3))
    inputs = build_root / "extreme.npy"
    np.save(inputs, extreme.astype(np.int8))
    code, _text, report = _run(
        build_root,
        capsys,
        "conv1:no-saturation",
        1,
        model="cifar10",
        extra=("--inputs", str(inputs)),
    )
    assert code == MismatchError.exit_code
    conv1 = report["layers"][0]
    assert conv1["name"] == "conv1" and conv1["mismatching_elements"] > 0
    first = conv1["first_failure"]
    assert (first["expected"], first["got"]) in ((127, -128), (-128, 127))
