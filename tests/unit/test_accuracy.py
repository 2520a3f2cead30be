"""Top-1 accuracy over the float model, the q7 reference and the device; the accuracy
line; the diagnostics; and every bad --labels/--dataset/float --inputs case as one line."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import numpy as np
import pytest

from hil.cli import main
from hil.device.counts import count_source
from hil.errors import ConfigError
from hil.model.examples import build_example
from hil.model.io import load_model, save_model
from hil.model.layer import Layer, Network, Quantisation
from hil.reference.network import run_network
from hil.report.html import render_html
from hil.validate.accuracy import (
    AccuracyRun,
    accuracy_line,
    check_labels,
    prepare_accuracy,
    reference_final,
)
from hil.validate.compare import compare_layer, crc32
from hil.validate.run_report import RunInfo, RunReport

RNG = np.random.default_rng(7)
W_Q = RNG.integers(-100, 100, (3, 4)).astype(np.int8)  # Q1.6
B_Q = RNG.integers(-30, 30, 3).astype(np.int8)  # Q3.4


def _fc(quantisation: Quantisation | None = None) -> Network:
    # x Q2.5, w Q1.6, out Q3.4: out_shift = 5 + 6 - 4, bias_shift = 5 + 6 - 4
    fc = Layer(
        "fc",
        "arm_fully_connected_q7",
        dict(dim_vec=4, num_of_rows=3, bias_shift=7, out_shift=7),
        W_Q.ravel(),
        B_Q.copy(),
        out_frac_bits=4,
        float_tensor="y",
    )
    return Network("fc", (4,), (fc,), quantisation=quantisation)


def _report(net: Network) -> RunReport:
    cs = count_source("systick", emulated=True, icount_shift=0)
    return RunReport(net, RunInfo(net.name, "qemu-m3", "plain", "portable", cs))


def _judge(report: RunReport, net: Network, x: np.ndarray, device_out: dict[int, np.ndarray]):
    """Feed one verdict per vector: the device's last layer is the reference's unless
    ``device_out`` says otherwise (full tensor; a None entry is a digest-only mismatch)."""
    last = len(net.layers) - 1
    for i, v in enumerate(x):
        expected = run_network(net, v, "plain")[last]
        got = device_out.get(i, expected)
        if got is None:
            verdict = compare_layer(i, last, expected, None, crc32(expected) ^ 1, 10)
        else:
            verdict = compare_layer(i, last, expected, got, None, 10)
            if not verdict.matched:
                report.keep_diff(last, i, expected, got)
        report.add_vector([verdict])


def test_accuracy_line_has_exactly_the_documented_form():
    section = {
        "float": 91.6,
        "q7_reference": 91.2,
        "device": 91.2,
        "judged": 1000,
        "inputs": 1000,
        "complete": True,
        "device_unknown": 0,
    }
    line = accuracy_line(section)
    assert line == "accuracy: float 91.6%, q7 reference 91.2%, device 91.2% (1000 inputs)"
    section["float"] = None
    assert accuracy_line(section) == "accuracy: q7 reference 91.2%, device 91.2% (1000 inputs)"
    section.update(judged=7, complete=False, device_unknown=2)
    assert accuracy_line(section) == (
        "accuracy: q7 reference 91.2%, device 91.2% (7 of 1000 inputs judged, run cut "
        "short; 2 digest-only mismatches counted wrong)"
    )


def test_device_figure_follows_its_verdicts_and_ties_go_low():
    net = _fc()
    x = RNG.integers(-128, 128, (4, 4)).astype(np.int8)
    ref = reference_final(net, x, "plain")
    labels = np.argmax(ref, axis=1)  # the reference is right on every vector
    run = AccuracyRun(labels, ref)
    report = _report(net)
    wrong = np.zeros(3, np.int8)  # a tie: top-1 is class 0
    wrong[0] = wrong[1] = 5
    device = {1: wrong, 2: None}  # vector 1 sent a differing tensor, vector 2 a bad digest
    _judge(report, net, x, device)
    run.finish(report)
    acc = report.accuracy
    assert acc is not None
    assert acc["q7_reference"] == 100.0
    expect_hits = 2 + int(labels[1] == 0)  # vectors 0 and 3, and 1 when its label is 0
    assert acc["device"] == pytest.approx(100.0 * expect_hits / 4)
    assert acc["device_unknown"] == 1 and acc["judged"] == 4
    assert "ties go to the lowest class index" in acc["top1"]
    assert acc["output_metrics"]["vectors"] == 3  # vector 2's output is unknown
    assert "accuracy" in report.to_dict()


def test_the_confusion_matrix_counts_labels_against_device_classes():
    net = _fc()
    x = RNG.integers(-128, 128, (5, 4)).astype(np.int8)
    ref = reference_final(net, x, "plain")
    labels = np.argmax(ref, axis=1)
    run = AccuracyRun(labels, ref)
    report = _report(net)
    wrong = np.full(3, -50, np.int8)
    wrong[(labels[1] + 1) % 3] = 100  # vector 1: the device picks the next class
    _judge(report, net, x, {1: wrong, 2: None})  # vector 2: only a differing digest
    run.finish(report)
    c = report.accuracy["confusion"]
    counts = np.array(c["counts"])
    assert counts.shape == (3, 3) and counts.sum() == 4 and c["unknown"] == 1
    assert counts[labels[1], (labels[1] + 1) % 3] == 1
    assert np.trace(counts) == 3  # vectors 0, 3 and 4 were right
    page = render_html(report)
    assert '<table id="confusion">' in page and "are not in the matrix" in page


def test_a_cut_short_run_counts_the_judged_vectors_only():
    net = _fc()
    x = RNG.integers(-128, 128, (5, 4)).astype(np.int8)
    ref = reference_final(net, x, "plain")
    labels = np.argmax(ref, axis=1)
    labels[4] = (labels[4] + 1) % 3  # wrong on a vector never judged
    run = AccuracyRun(labels, ref)
    report = _report(net)
    _judge(report, net, x[:2], {})
    report.mark_incomplete("interrupted")
    run.finish(report)
    acc = report.accuracy
    assert acc["judged"] == 2 and not acc["complete"]
    assert acc["q7_reference"] == 100.0 and acc["q7_reference_all_inputs"] == 80.0
    assert "2 of 5 inputs judged, run cut short" in accuracy_line(acc)


def test_reports_without_labels_have_no_accuracy_section():
    d = _report(_fc()).to_dict()
    assert "accuracy" not in d and "diagnostics" not in d


@pytest.mark.parametrize(
    ("labels", "words"),
    [
        (np.zeros(3, np.int64), "holds 3 labels for 4 inputs"),
        (np.array([0, 1, 3, 0]), "label 3 (input 2) in L is out of range"),
        (np.array([0, -1, 0, 0]), "label -1 (input 1)"),
        (np.zeros(4, np.float32), "dtype float32, not integer class ids"),
        (np.eye(4, 3, dtype=np.int64), r"shape \(4, 3\), expected \(4,\)"),
    ],
)
def test_bad_labels_are_one_clear_error(labels, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")
                       if "\\" not in words else words):  # fmt: skip
        check_labels(labels, 4, _fc(), "L")


def _gemm_onnx(path: Path) -> Path:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "b"], ["y"], transB=1)],
        "fc",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [
            numpy_helper.from_array((W_Q / 64).astype(np.float32), "W"),
            numpy_helper.from_array((B_Q / 16).astype(np.float32), "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_float_figure_and_layer_diagnostics_from_the_float_model(tmp_path):
    path = _gemm_onnx(tmp_path / "fc.onnx")
    net = _fc(Quantisation(5, "HWC", (4,), "minmax", float_model=path, float_output="y"))
    x_float = RNG.uniform(-1, 1, (64, 4)).astype(np.float32)
    from hil.model.float_inputs import quantise_inputs

    x, saturated = quantise_inputs(x_float, net)
    float_pred = np.argmax(x_float @ (W_Q / 64).T + B_Q / 16, axis=1)
    run = prepare_accuracy(net, x, float_pred, "plain", x_float=x_float, input_saturated=saturated)
    report = _report(net)
    _judge(report, net, x, {})
    run.finish(report)
    acc = report.accuracy
    assert acc["float"] == 100.0  # the labels are the float model's own predictions
    assert 80.0 <= acc["q7_reference"] == acc["device"]
    metrics = acc["output_metrics"]
    assert metrics["device_vs_reference"]["RMSE"] == 0.0
    assert metrics["device_vs_float"]["COS"] > 0.99
    diag = report.diagnostics
    assert diag["vectors"] == 64 and diag["worst_layer"] == 0
    layer = diag["layers"][0]
    assert layer["worst"] and layer["cosine"] > 0.99 and layer["snr_db"] > 20
    assert layer["max_abs_error"] < 0.2
    json.dumps(report.to_dict(), allow_nan=False)  # valid JSON: no inf or NaN
    page = render_html(report)
    assert "<h2>Accuracy</h2>" in page and escape(accuracy_line(acc)) in page
    assert "largest SNR drop" in page and "device vs float" in page
    assert "<h2>Accuracy</h2>" not in render_html(_report(net))


def test_a_float_model_that_cannot_run_is_a_note_not_a_failure(tmp_path):
    net = _fc(Quantisation(5, "HWC", (4,), "minmax", float_model=tmp_path / "gone.onnx"))
    x_float = np.zeros((2, 4), np.float32)
    x = np.zeros((2, 4), np.int8)
    run = prepare_accuracy(net, x, np.zeros(2, np.int64), "plain", x_float=x_float)
    assert run.float_output is None and "no float figure" in (run.float_note or "")


# -- the command line: each bad input is one line naming the fix, before any build --


@pytest.fixture
def quantised_model(tmp_path) -> Path:
    net = build_example("lenet5", 0)
    q = Quantisation(7, "NCHW", (1, *net.input_shape[:2]), "minmax")
    if len(net.input_shape) == 3 and net.input_shape[2] != 1:
        q = Quantisation(7, "NCHW", (net.input_shape[2], *net.input_shape[:2]), "minmax")
    toml, _ = save_model(Network(net.name, net.input_shape, net.layers, quantisation=q),
                         tmp_path / "m.toml")  # fmt: skip
    return toml


def _run(args: list[str], tmp_path: Path, capsys) -> tuple[int, str]:
    code = main(["run", "--build-dir", str(tmp_path / "build"), *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def _float_inputs(model: Path, tmp_path: Path, n: int = 3) -> Path:
    q = load_model(str(model)).quantisation
    assert q is not None
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((n, *q.input_float_shape), np.float32))
    return path


def _labels(tmp_path: Path, values) -> Path:
    path = tmp_path / "y.npy"
    np.save(path, np.asarray(values))
    return path


CASES = {
    "labels without inputs": (lambda m, t: ["--labels", str(_labels(t, [0]))], "--labels"),
    "dataset with inputs": (
        lambda m, t: ["--dataset", "mnist-test", "--inputs", str(_float_inputs(m, t))],
        "--dataset and --inputs both given",
    ),
    "dataset with labels": (
        lambda m, t: ["--dataset", "mnist-test", "--labels", str(_labels(t, [0]))],
        "--dataset and --labels both given",
    ),
    "dataset with vectors": (
        lambda m, t: ["--dataset", "mnist-test", "--vectors", "3"],
        "--vectors/-n and --dataset",
    ),
    "unknown dataset": (lambda m, t: ["--dataset", "no-such"], "unknown data set 'no-such'"),
    "label count": (
        lambda m, t: ["--inputs", str(_float_inputs(m, t)), "--labels", str(_labels(t, [0, 1]))],
        "holds 2 labels for 3 inputs",
    ),
    "label range": (
        lambda m, t: [
            "--inputs",
            str(_float_inputs(m, t)),
            "--labels",
            str(_labels(t, [0, 1, 10])),
        ],
        "label 10 (input 2)",
    ),
    "label dtype": (
        lambda m, t: [
            "--inputs",
            str(_float_inputs(m, t)),
            "--labels",
            str(_labels(t, [0.0, 1.0, 2.0])),
        ],
        "not integer class ids",
    ),  # fmt: skip
    "labels missing": (
        lambda m, t: ["--inputs", str(_float_inputs(m, t)), "--labels", str(t / "none.npy")],
        "labels file",
    ),
    "float inputs of the wrong shape": (
        lambda m, t: ["--inputs", str(_labels(t, np.zeros((2, 5), np.float32)))],
        "float inputs have shape (2, 5)",
    ),
    "float inputs with NaN": (
        lambda m, t: ["--inputs", str(_labels(t, np.full((1, *_shape(m)), np.nan, np.float32)))],
        "NaN or infinite",
    ),
}


def _shape(model: Path) -> tuple[int, ...]:
    q = load_model(str(model)).quantisation
    assert q is not None
    return tuple(q.input_float_shape)


def _assert_one_line(code: int, text: str, words: str) -> None:
    assert code == 2, text
    assert "Traceback" not in text
    error_lines = [ln for ln in text.splitlines() if ln.startswith("error")]
    assert len(error_lines) == 1 and words in error_lines[0], text
    assert any(ln.startswith("hint") for ln in text.splitlines()), text


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_accuracy_input_is_one_line(case, quantised_model, tmp_path, capsys):
    args, words = CASES[case]
    code, text = _run(["--model", str(quantised_model), *args(quantised_model, tmp_path)],
                      tmp_path, capsys)  # fmt: skip
    _assert_one_line(code, text, words)
    assert not (tmp_path / "build").exists() or not any((tmp_path / "build").rglob("*.elf"))


def test_float_inputs_for_a_model_without_quantisation(tmp_path, capsys):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((1, 28, 28, 1), np.float32))
    code, text = _run(["--model", "lenet5", "--inputs", str(path)], tmp_path, capsys)
    _assert_one_line(code, text, "no [quantisation] table")
