"""`hil import` through hil.cli.main: the model it writes loads and runs, and bad input is one line."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from hil.cli import main
from hil.model.io import load_model
from hil.reference.network import run_network_batch


def _onnx(tmp_path):
    rng = np.random.default_rng(3)
    inits = {
        "w1": rng.normal(0, 0.3, (4, 1, 3, 3)),
        "w2": rng.normal(0, 0.3, (3, 4 * 3 * 3)),
        "b2": rng.normal(0, 0.1, 3),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c"], name="conv1"),
        helper.make_node("Relu", ["c"], ["r"], name="relu1"),
        helper.make_node("Flatten", ["r"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()],
    )
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    x = rng.uniform(0, 1, (40, 1, 5, 5)).astype(np.float32)
    np.save(tmp_path / "cal.npy", x)
    np.save(tmp_path / "labels.npy", rng.integers(0, 3, 40))
    return path


def test_import_writes_a_model_that_loads_and_runs(tmp_path, capsys):
    path = _onnx(tmp_path)
    out = tmp_path / "models" / "tiny.toml"
    argv = ["import", str(path), "--calibration", str(tmp_path / "cal.npy"), "--out", str(out)]
    argv += ["--validate", str(tmp_path / "cal.npy"), "--labels", str(tmp_path / "labels.npy")]
    assert main([*argv, "--prefer", "basic", "--method", "percentile"]) == 0
    text = capsys.readouterr().out
    assert "arm_fully_connected_q7 " in text and "largest SNR drop" in text
    assert "accuracy: float" in text and "q7 reference" in text
    net = load_model(str(out))
    assert net.name == "tiny" and net.quantisation.calibration == "percentile"
    assert net.quantisation.float_model == path.resolve()
    assert [l.function for l in net.layers][-1] == "arm_fully_connected_q7"
    assert run_network_batch(net, np.zeros((2, 5, 5, 1), np.int8))[-1].shape == (2, 3)
    assert main(argv) == 2  # exists
    assert "--force" in capsys.readouterr().err
    assert main([*argv, "--force", "--kernel", "conv1=arm_convolve_HWC_q7_basic_nonsquare"]) == 0
    assert load_model(str(out)).layers[0].function == "arm_convolve_HWC_q7_basic_nonsquare"


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    path = _onnx(tmp_path)
    cal = str(tmp_path / "cal.npy")
    out = str(tmp_path / "o.toml")
    bad = tmp_path / "bad.npy"
    bad.write_text("junk")
    np.save(tmp_path / "nan.npy", np.full((2, 1, 5, 5), np.nan, np.float32))
    cases = [
        (
            ["import", str(tmp_path / "none.onnx"), "--calibration", cal, "--out", out],
            "does not exist",
        ),
        (["import", cal, "--calibration", cal, "--out", out], "is not an ONNX model"),
        (["import", str(path), "--calibration", str(bad), "--out", out], "not a readable .npy"),
        (["import", str(path), "--calibration", str(tmp_path / "nan.npy"), "--out", out], "NaN"),
        (
            ["import", str(path), "--calibration", cal, "--out", str(tmp_path / "o.json")],
            "must end in .toml",
        ),
        (
            ["import", str(path), "--calibration", cal, "--out", out, "--method", "max"],
            "unknown calibration method",
        ),
        (
            ["import", str(path), "--calibration", cal, "--out", out, "--kernel", "conv1"],
            "LAYER=FUNCTION",
        ),
        (
            ["import", str(path), "--calibration", cal, "--out", out, "--labels", cal],
            "--labels needs --validate",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err, (argv, err)
        assert "Traceback" not in err
