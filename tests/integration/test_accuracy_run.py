"""`hil run` with float inputs and labels on QEMU: the inputs are quantised, the device
equals the reference on every layer, and the run ends with the accuracy line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hil.cli import main
from hil.model.float_inputs import quantise_inputs
from hil.model.io import save_model
from hil.model.layer import Layer, Network, Quantisation
from hil.reference.network import run_network

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]


def _imported_model() -> Network:
    """What `hil import` writes for a 1x4x4 -> 4-class classifier: FC then softmax."""
    rng = np.random.default_rng(3)
    fc = Layer(
        "fc",
        "arm_fully_connected_q7",
        dict(dim_vec=16, num_of_rows=4, bias_shift=4, out_shift=8),
        rng.integers(-90, 90, 64).astype(np.int8),
        rng.integers(-20, 20, 4).astype(np.int8),
        out_frac_bits=3,
        float_tensor="logits",
    )
    soft = Layer("softmax", "arm_softmax_q7", {"dim_vec": 4}, out_frac_bits=7, float_tensor="p")
    q = Quantisation(5, "NCHW", (1, 4, 4), "minmax", float_output="p")
    return Network("tinyimport", (4, 4, 1), (fc, soft), quantisation=q)


def test_float_inputs_and_labels_give_the_accuracy_line(tmp_path, capsys):
    net = _imported_model()
    toml, _ = save_model(net, tmp_path / "tinyimport.toml")
    rng = np.random.default_rng(4)
    x = rng.uniform(-4.5, 4.5, (24, 1, 4, 4)).astype(np.float32)  # some values saturate
    q7, saturated = quantise_inputs(x, net)
    assert saturated > 0
    ref_pred = [int(np.argmax(run_network(net, v, "plain")[-1])) for v in q7]
    labels = np.array(ref_pred, np.int64)
    labels[:6] = (labels[:6] + 1) % 4  # the first six are wrong: 75%
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", labels)
    report = tmp_path / "report.json"
    code = main(
        [
            "run",
            "--board",
            "qemu-m3",
            "--model",
            str(toml),
            "--inputs",
            str(tmp_path / "x.npy"),
            "--labels",
            str(tmp_path / "y.npy"),
            "--build-dir",
            str(tmp_path / "build"),
            "--json",
            str(report),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"24 float inputs quantised to q7 (HWC): {saturated} of 384 values saturated" in out
    assert out.rstrip().splitlines()[-1] == (
        "accuracy: q7 reference 75.0%, device 75.0% (24 inputs)"
    )
    data = json.loads(report.read_text())
    assert data["passed"] and all(layer["matched"] == 24 for layer in data["layers"])
    acc = data["accuracy"]
    assert acc["q7_reference"] == acc["device"] == 75.0 and acc["device_unknown"] == 0
    assert acc["input_values_saturated"] == saturated
    assert acc["output_metrics"]["device_vs_reference"]["RMSE"] == 0.0
