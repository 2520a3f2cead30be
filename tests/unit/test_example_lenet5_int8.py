"""The MNIST example's int8 path: the trained LeNet-5 quantised to a full-int8
TFLite model (examples/lenet5_mnist/to_int8_tflite.py), imported and checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from hil.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "lenet5_mnist" / "to_int8_tflite.py"


def test_trained_lenet5_int8_imports_exactly_with_its_accuracy(tmp_path, capsys):
    subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], check=True, capture_output=True)
    args = [
        "import", tmp_path / "lenet5_mnist_int8.tflite", "--out", tmp_path / "lenet5-int8.toml",
        "--validate", tmp_path / "mnist_test_x.npy", "--labels", tmp_path / "mnist_test_y.npy",
        "--float", tmp_path / "lenet5_mnist_float.tflite",
    ]  # fmt: skip
    assert main([str(a) for a in args]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.count("exact") >= 8 and "values differ" not in text, text
    m = re.search(r"accuracy: float (\d+\.\d)%, int8 reference (\d+\.\d)% \(1,000 inputs\)", text)
    assert m, text
    float_acc, int8_acc = float(m.group(1)), float(m.group(2))
    assert float_acc > 95 and abs(float_acc - int8_acc) <= 1.0


def test_an_onnx_float_model_gives_the_per_layer_diagnostics_too(tmp_path, capsys):
    """The example's int8 model keeps the ONNX model's tensor names: every layer but
    the softmax is compared with the ONNX tensor (NCHW taken to NHWC), with the figures
    its float TFLite twin gives."""
    import numpy as np

    from hil.model.io import load_any_model
    from hil.validate.s8_diagnostics import diagnose

    subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], check=True, capture_output=True)
    onnx = ROOT / "examples" / "lenet5_mnist" / "lenet5_mnist.onnx"
    args = ["import", tmp_path / "lenet5_mnist_int8.tflite", "--out", tmp_path / "l5.toml",
            "--validate", tmp_path / "mnist_test_x.npy", "--labels", tmp_path / "mnist_test_y.npy",
            "--float", onnx]  # fmt: skip
    assert main([str(a) for a in args]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "/relu1/Relu_output_0" in text and "largest SNR drop" in text, text
    assert re.search(r"accuracy: float 96\.\d%, int8 reference", text), text

    net = load_any_model(tmp_path / "l5.toml")
    real = np.load(tmp_path / "mnist_test_x.npy")[:50].astype(np.float32)
    x = net.input_quant.quantise(real).reshape(50, -1)
    via_onnx = diagnose(net, x, real, onnx, "double")["layers"]
    via_tflite = diagnose(net, x, real, tmp_path / "lenet5_mnist_float.tflite", "double")["layers"]
    assert [r["name"] for r in via_onnx if "skipped" in r] == ["softmax1"]
    for a, b in zip(via_onnx[:-1], via_tflite[:-1]):
        assert a["float_tensor"] == b["float_tensor"]
        assert abs(a["snr_db"] - b["snr_db"]) < 0.5 and abs(a["cosine"] - b["cosine"]) < 1e-3
