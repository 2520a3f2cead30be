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
