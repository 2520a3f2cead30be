"""`hil import MODEL.tflite` and `hil infer` on the s8 model it writes, as a user runs them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from hil.cli import main
from hil.model.io import load_any_model
from hil.model.s8 import S8Network
from hil.model.tflite.writer import serialise

from helpers import tflm
from helpers.s8_models import float_twin, small_cnn


def cli(args: list[str], capsys) -> tuple[int, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, " ".join((out.err + out.out).split())


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("tflite")
    graph, _ = small_cnn(seed=2)
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, size=(48, 16, 16, 3)).astype(np.float32)
    twin = float_twin(graph)
    labels = np.array([np.argmax(tflm.run(twin, r[None])[0]) for r in x])  # float: 100%
    paths = {k: d / v for k, v in {"int8": "cnn.tflite", "float": "cnn_float.tflite",
             "x": "x.npy", "y": "y.npy"}.items()}  # fmt: skip
    paths["int8"].write_bytes(serialise(graph))
    paths["float"].write_bytes(serialise(twin))
    np.save(paths["x"], x)
    np.save(paths["y"], labels)
    return paths


def test_import_checks_every_layer_and_reports_accuracy(files, tmp_path, capsys):
    out = tmp_path / "m" / "cnn.toml"
    code, text = cli(["import", files["int8"], "--out", out, "--validate", files["x"],
                      "--labels", files["y"], "--float", files["float"]], capsys)  # fmt: skip
    assert code == 0, text
    # exit 0: every layer equalled TFLite Micro (a difference stops the import)
    assert text.count("exact") >= 8 and "values differ" not in text, text
    assert "every layer on 48 inputs (the --validate inputs)" in text
    m = re.search(r"accuracy: float 100\.0%, int8 reference (\d+\.\d)% \(48 inputs\)", text)
    assert m, text
    assert float(m.group(1)) >= 75  # int8 close to its float twin
    # every layer dequantised against the float twin's tensor of the same name
    assert (
        "quantisation diagnostics (int8 reference, dequantised, vs float model, 48 inputs)" in text
    )
    assert "no float tensor" not in text and "largest SNR drop" in text
    net = load_any_model(out)
    assert isinstance(net, S8Network) and len(net.layers) == 8
    import tomllib

    doc = tomllib.loads(out.read_text())
    assert (out.parent / doc["source"]).resolve() == files["int8"].resolve()  # relative to it
    assert len(doc["source_sha256"]) == 64


def test_infer_on_the_imported_model_equals_tflite_micro(files, tmp_path, capsys):
    out = tmp_path / "cnn.toml"
    assert cli(["import", files["int8"], "--out", out], capsys)[0] == 0
    y = tmp_path / "y.npy"
    code, text = cli(["infer", "--model", out, "--inputs", files["x"], "--output", y], capsys)
    assert code == 0, text
    graph, _ = small_cnn(seed=2)
    interp = tflm.interpreter(graph)
    want = np.stack([tflm.run(interp, r[None])[0].reshape(-1) for r in np.load(files["x"])])
    got = np.load(y)
    assert got.dtype == np.int8
    assert np.array_equal((got.astype(np.float32) + 128) / 256, want)  # DEQUANTIZE's own


def assert_refused(code: int, text: str, *words: str) -> None:
    assert code == 2, text
    assert text.startswith("error:") and "Traceback" not in text, text
    for w in words:
        assert w in text, f"{w!r} not in {text}"


def test_onnx_options_on_a_tflite_model_are_refused(files, tmp_path, capsys):
    out = tmp_path / "cnn.toml"
    code, text = cli(["import", files["int8"], "--out", out, "--calibration", files["x"]], capsys)
    assert_refused(code, text, "--calibration is for ONNX models", "leave out --calibration")
    code, text = cli(["import", files["int8"], "--out", out, "--method", "kl"], capsys)
    assert_refused(code, text, "--method is for ONNX models")
    assert not out.exists()


def test_a_float_tflite_model_is_refused_with_how_to_quantise(files, tmp_path, capsys):
    code, text = cli(["import", files["float"], "--out", tmp_path / "f.toml"], capsys)
    assert_refused(code, text, "float model", "representative dataset")


def test_an_onnx_model_still_needs_calibration(tmp_path, capsys):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"")
    code, text = cli(["import", model, "--out", tmp_path / "m.toml"], capsys)
    assert_refused(code, text, "needs --calibration")
    code, text = cli(["import", model, "--out", tmp_path / "m.toml", "--float", model], capsys)
    assert_refused(code, text, "--float is for .tflite models")


def test_q7_options_on_an_s8_model_are_refused(files, tmp_path, capsys):
    out = tmp_path / "cnn.toml"
    assert cli(["import", files["int8"], "--out", out], capsys)[0] == 0
    args = ["infer", "--model", out, "--inputs", files["x"], "--output", tmp_path / "y.npy"]
    assert_refused(*cli([*args, "--variant", "plain"], capsys), "--variant is for q7 models")
    assert_refused(*cli([*args, "--rounding", "triple"], capsys), "--rounding 'triple'")
    code, text = cli(["bench", "reference", "--model", out, "--variant", "plain"], capsys)
    assert_refused(code, text, "--variant plain is a q7 kernel path", "--variant double")


def test_s8_options_on_a_q7_run_are_refused(files, tmp_path, capsys):
    build = ["--build-dir", tmp_path / "b"]
    code, text = cli(["run", "--model", "lenet5", "--rounding", "single", *build], capsys)
    assert_refused(code, text, "--rounding is for s8 (int8) models")
    code, text = cli(["run", "--model", "lenet5", "--float", files["float"], *build], capsys)
    assert_refused(code, text, "--float is for s8 (int8) models")
    assert not (tmp_path / "b").exists() or not list((tmp_path / "b").rglob("*.elf"))


def test_a_tflite_path_given_as_model_says_to_import_it(files, tmp_path, capsys):
    args = [
        "infer",
        "--model",
        files["int8"],
        "--inputs",
        files["x"],
        "--output",
        tmp_path / "y.npy",
    ]
    assert_refused(*cli(args, capsys), "TFLite model, not a hil model file", "hil import")


def test_export_writes_the_s8_module_of_the_imported_model(files, tmp_path, capsys, monkeypatch):
    import json

    from hil.export.files import build_export

    monkeypatch.setenv("PATH", str(tmp_path))  # no cross compiler: the known sizes only
    model = tmp_path / "cnn.toml"
    assert cli(["import", files["int8"], "--out", model], capsys)[0] == 0
    out = tmp_path / "export"
    code, text = cli(["export", "--model", model, "--out", out], capsys)
    assert code == 0, text
    manifest = json.loads((out / "hil-export.json").read_text())
    assert manifest["family"] == "s8"
    expected = build_export(load_any_model(model), "cnn").files
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == set(expected)
    assert "arm_convolve_wrapper_s8" in (out / "cnn.c").read_text()
    assert "--rounding double" in text


def test_an_s8_export_against_a_q7_era_cmsis_nn_is_refused(files, tmp_path, capsys):
    model = tmp_path / "cnn.toml"
    assert cli(["import", files["int8"], "--out", model], capsys)[0] == 0
    old = tmp_path / "cmsis5" / "Include"
    old.mkdir(parents=True)
    (old / "arm_nnfunctions.h").write_text("void arm_convolve_HWC_q7_basic(void);\n")
    args = ["export", "--model", model, "--out", tmp_path / "e", "--backend", "cmsis-nn"]
    code, text = cli([*args, "--cmsis-nn", tmp_path / "cmsis5"], capsys)
    assert_refused(code, text, "CMSIS-NN 7.0 or later", "is not one")
    assert not (tmp_path / "e").exists()


def test_a_model_file_with_asymmetric_weights_is_refused(files, tmp_path, capsys):
    out = tmp_path / "cnn.toml"
    assert cli(["import", files["int8"], "--out", out], capsys)[0] == 0
    text = out.read_text()
    assert "filter_offset = 0" in text
    out.write_text(text.replace("filter_offset = 0", "filter_offset = 3", 1))
    args = ["infer", "--model", out, "--inputs", files["x"], "--output", tmp_path / "y.npy"]
    assert_refused(*cli(args, capsys), "layer 'fc1'", "filter_offset = 3 is outside 0..0")


def test_real_metrics_dequantise_through_scale_and_zero_point():
    from hil.model.s8 import Quant
    from hil.validate.s8_diagnostics import real_metrics

    quant = Quant(0.5, -128)
    q = np.array([-128, -127, 0, 127], np.int8)
    exact = real_metrics((q.astype(float) + 128) * 0.5, q, quant)
    assert exact.rmse == 0 and exact.max_abs_error == 0
    assert exact.saturated_share == 0.25  # 127 is clipped; -128 is the zero point, a ReLU's 0
    off = real_metrics((q.astype(float) + 128) * 0.5 + np.array([0, 0, 0.25, 0]), q, quant)
    assert off.max_abs_error == 0.25
