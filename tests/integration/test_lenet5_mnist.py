"""The trained LeNet-5 end to end on qemu-m7: 1,000 held-out MNIST digits in digest
mode, the device identical to the q7 reference on every layer, accuracy within one
point of the float model, and the diagnostics in the JSON report."""

from __future__ import annotations

import json
import re

import pytest

from hil.cli import main

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]
ACCURACY = re.compile(
    r"^accuracy: float (\d+\.\d)%, q7 reference (\d+\.\d)%, device (\d+\.\d)% \((\d+) inputs\)$"
)


def test_the_trained_lenet5_runs_bit_exactly_within_a_point_of_float(tmp_path, capsys):
    report = tmp_path / "report.json"
    args = ["run", "--model", "lenet5-mnist", "--dataset", "mnist-test", "--dump", "digest"]
    code = main(args + ["--build-dir", str(tmp_path / "build"), "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS: 1000 of 1,000 vectors x 12 layers" in out
    lines = out.rstrip().splitlines()
    match = ACCURACY.match(lines[-1])
    assert match, lines[-1]
    float_acc, reference, device, inputs = match.groups()
    assert int(inputs) == 1000 and device == reference
    assert float(float_acc) - float(reference) <= 1.0
    data = json.loads(report.read_text())
    confusion = data["accuracy"]["confusion"]["counts"]
    assert sum(map(sum, confusion)) == 1000 and len(confusion) == 10
    diagonal = sum(confusion[k][k] for k in range(10))
    assert diagonal / 10 == float(device)  # the diagonal is the device's top-1 hits
    layers = data["diagnostics"]["layers"]
    assert len(layers) == 12 and all(row["cosine"] > 0.99 for row in layers)
    worst = data["diagnostics"]["worst_layer"]
    assert worst is not None and layers[worst]["worst"]
    assert layers[worst]["function"] != "arm_softmax_q7"  # softmax's gap is its base-2 math
