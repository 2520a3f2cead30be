"""Isolated verdicts: a run with one wrong kernel blames that kernel, not every layer after it.

The fake device computes the network layer by layer from its own previous output,
as the firmware does, and corrupts one layer's output; every later layer then
gets a wrong input and differs from the reference chain without being wrong.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, replace
from typing import Callable

import numpy as np
import pytest
from rich.console import Console

from hil.device.counts import count_source
from hil.device.session import LayerResult
from hil.model import Layer, Network
from hil.model.inputs import generated_inputs
from hil.model.io import load_model
from hil.reference.network import run_layer
from hil.report.junit import write_junit
from hil.report.terminal import render
from hil.validate.check import check_vectors
from hil.validate.compare import DiffStats, LayerVerdict, compare_layer, crc32
from hil.validate.run_report import RunInfo, RunReport

Fault = Callable[[np.ndarray], np.ndarray]


def plus_one(y: np.ndarray) -> np.ndarray:
    return np.clip(y.astype(np.int16) + 1, -128, 127).astype(np.int8)


def minus_one(y: np.ndarray) -> np.ndarray:
    return np.clip(y.astype(np.int16) - 1, -128, 127).astype(np.int8)


class ChainingDevice:
    """A device whose layer ``bad`` applies ``fault``; later layers run on its output."""

    def __init__(self, network: Network, bad: int | None, fault: Fault = plus_one) -> None:
        self.network, self.bad, self.fault = network, bad, fault
        self.full_dumps = 0

    def infer(self, x, dump="all", next_x=None, expected_crcs=None):
        y = np.asarray(x, dtype=np.int8).ravel()
        results = []
        for i, layer in enumerate(self.network.layers):
            y = run_layer(layer, y, "dsp")
            if i == self.bad:
                y = self.fault(y)
            full = dump == "all"
            crc = 0 if full else crc32(y)
            results.append(LayerResult(i, y.copy() if full else None, crc, 100 + i, 0))
        self.full_dumps += dump == "all"
        return results


def run(
    model: str, bad: int | None, *, fault: Fault = plus_one, dump: str = "all", vectors: int = 2
) -> tuple[RunReport, ChainingDevice]:
    net = load_model(model)
    cs = count_source("systick", emulated=True, icount_shift=0)
    report = RunReport(
        net, RunInfo(net.name, "qemu-m7", "dsp", "portable", cs), vectors_requested=vectors
    )
    device = ChainingDevice(net, bad, fault)
    check_vectors(device, net, generated_inputs(net, vectors, 0), report, variant="dsp", dump=dump)
    return report, device


@pytest.mark.parametrize(("model", "bad"), [("lenet5", 3), ("cifar10", 3), ("cifar10", 6)])
def test_the_corrupted_layer_is_the_first_wrong_kernel_and_later_layers_inherit(model, bad):
    report, _ = run(model, bad)
    blame = report.first_wrong_kernel()
    assert blame is not None and blame.isolated and blame.layer.index == bad
    assert [s.index for s in report.layers if s.wrong_in_isolation] == [bad]
    later = [s for s in report.layers[bad + 1 :] if s.failed]
    assert later, "the corruption should reach later layers"
    for s in later:
        assert report.inherits_from(s) == bad
        assert report.blame_text(s) == f"inherits the error from layer {bad}"
    assert all(s.passed for s in report.layers[:bad])
    s = report.layers[bad]
    line = report.summary_line()
    assert line.endswith(f"; first wrong kernel: layer {bad} {s.name} ({s.function})")
    assert report.verdict == "fail"  # inheriting or not, a mismatch fails the run


def test_statistics_of_an_off_by_one_layer():
    report, _ = run("lenet5", 3)
    s = report.layers[3]
    for stats in (s.chained_stats, s.isolated_stats):
        assert stats is not None
        assert stats.elements == 2 * 10 * 10 * 16
        assert stats.histogram[5] == stats.differing  # every difference is +1
        assert sum(stats.histogram) == stats.elements
        assert stats.max_abs_diff == 1
        assert stats.diff_sum == stats.differing
        assert 0.9 < stats.share <= 1.0  # only outputs already at 127 stay put
        assert stats.hint() == "all differences are +1: a rounding offset?"
    inherited = report.layers[6]  # fc1, fed a shifted pooled tensor
    assert inherited.isolated_stats is None and inherited.chained_stats is not None
    d = report.to_dict()["layers"]
    assert d[3]["isolated_stats"]["histogram"]["+1"] == s.isolated_stats.differing
    assert d[3]["wrong_in_isolation"] is True and d[4]["inherits_from"] == 3
    assert d[6]["inherits_from"] == 3 and d[6]["isolated"]["matched"] == 2


def test_wrong_rounding_in_the_first_conv_gives_the_rounding_hint():
    report, _ = run("cifar10", 0, fault=minus_one)
    blame = report.first_wrong_kernel()
    assert blame is not None and blame.layer.name == "conv1"
    stats = report.layers[0].isolated_stats
    assert stats is not None and stats.hint() == "all differences are -1: a rounding offset?"
    assert stats.mean_diff < 0
    d = report.to_dict()
    assert d["first_wrong_kernel"] == {
        "index": 0,
        "name": "conv1",
        "function": "arm_convolve_HWC_q7_RGB",
        "isolated": True,
    }
    assert d["layers"][0]["chained_stats"]["hint"].startswith("all differences are -1")


def test_mismatch_mode_judges_isolated_from_the_refetched_tensors():
    report, device = run("lenet5", 3, dump="mismatch")
    assert device.full_dumps == 2  # one re-fetch per mismatching vector
    assert report.first_wrong_kernel().layer.index == 3
    assert report.inherits_from(report.layers[6]) == 3


def test_digest_only_runs_fall_back_to_the_first_chained_failure_and_say_so():
    report, _ = run("lenet5", 3, dump="digest")
    assert all(s.isolated_vectors == 0 for s in report.layers)
    blame = report.first_wrong_kernel()
    assert blame is not None and not blame.isolated and blame.layer.index == 3
    assert "first wrong kernel: layer 3 conv2 (arm_convolve_HWC_q7_fast), first chained " in (
        report.summary_line()
    )
    assert report.inherits_from(report.layers[6]) is None
    assert report.to_dict()["first_wrong_kernel"]["isolated"] is False


def test_a_passing_run_blames_nothing():
    report, _ = run("lenet5", None)
    assert report.passed and report.first_wrong_kernel() is None
    assert "wrong kernel" not in report.summary_line()
    assert all(s.isolated_matched == s.isolated_vectors == 2 for s in report.layers)
    top1 = report.top1_agreement()
    assert top1 == {"vectors": 2, "agree": 2, "changed": [], "unknown": []}


def test_top1_lists_the_vectors_whose_class_changed():
    def flip_class(y: np.ndarray) -> np.ndarray:
        return y[::-1].copy()  # fc3's scores reversed: the argmax moves

    report, _ = run("lenet5", 10, fault=flip_class, vectors=3)
    top1 = report.top1_agreement()
    assert top1 is not None and top1["vectors"] == 3 and not top1["unknown"]
    assert top1["agree"] + len(top1["changed"]) == 3 and top1["changed"]
    for c in top1["changed"]:
        assert c["expected_class"] != c["got_class"]
    assert report.to_dict()["top1"] == top1


def test_junit_names_the_blamed_kernel_and_marks_inheriting_layers(tmp_path):
    report, _ = run("lenet5", 3)
    write_junit(report, tmp_path / "r.xml")
    cases = {
        c.get("name"): c.find("failure")
        for c in ET.parse(tmp_path / "r.xml").getroot().iter("testcase")
    }
    blamed = cases["03_conv2"]
    assert blamed is not None
    assert "first wrong kernel: layer 3 conv2 (arm_convolve_HWC_q7_fast)" in blamed.get("message")
    assert cases["02_pool1"] is None
    assert cases["06_fc1"].get("message").endswith("; inherits the error from layer 3")


def test_terminal_table_says_which_layers_inherit():
    report, _ = run("lenet5", 3)
    console = Console(record=True, width=250)
    render(report, console)
    text = console.export_text()
    fc1_row = next(line for line in text.splitlines() if " fc1 " in line)
    assert "inherits the error from layer 3" in fc1_row
    conv2_row = next(line for line in text.splitlines() if " conv2 " in line)
    assert "first wrong kernel" in conv2_row and "inherits" not in conv2_row
    assert text.rstrip().endswith("first wrong kernel: layer 3 conv2 (arm_convolve_HWC_q7_fast)")


def _verdict(layer: int, matched: bool, isolated: bool | None) -> LayerVerdict:
    exp = np.zeros(4, dtype=np.int8)
    got = exp if matched else np.array([0, -1, -1, 0], dtype=np.int8)
    v = compare_layer(0, layer, exp, got, None, 1)
    if isolated is None:
        return v
    alone = compare_layer(0, layer, exp, got if not isolated else exp, None, 1)
    return replace(v, isolated_matched=alone.matched, isolated_stats=alone.stats)


def _tiny_report(verdicts: list[LayerVerdict]) -> RunReport:
    layers = tuple(Layer(f"relu{i}", "arm_relu_q7", {"size": 4}) for i in range(len(verdicts)))
    cs = count_source("systick", emulated=True, icount_shift=0)
    r = RunReport(Network("tiny", (4,), layers), RunInfo("tiny", "qemu-m7", "dsp", "x", cs))
    r.add_vector(verdicts)
    return r


def test_synthetic_verdicts_two_wrong_kernels_each_blame_the_nearest():
    r = _tiny_report(
        [
            _verdict(0, True, True),
            _verdict(1, False, False),  # wrong kernel
            _verdict(2, False, True),  # inherits from 1
            _verdict(3, False, False),  # a second wrong kernel
            _verdict(4, False, True),  # inherits from 3
        ]
    )
    assert r.first_wrong_kernel().layer.index == 1
    assert [r.inherits_from(s) for s in r.layers] == [None, None, 1, None, 3]
    assert r.blame_text(r.layers[3]) == "wrong in isolation"
    assert r.layers[1].chained_stats.hint() == "all differences are -1: a rounding offset?"


def test_hints_in_words():
    def stats(diffs: list[int]) -> DiffStats:
        d = np.array(diffs, dtype=np.int16)
        return DiffStats.of(np.zeros(d.size, dtype=np.int8), d.astype(np.int8))

    assert stats([0, 0]).hint() is None
    assert stats([1, 0, 1]).hint() == "all differences are +1: a rounding offset?"
    assert stats([-1, -5, 0]).hint().startswith("all differences are negative")
    assert stats([2, 7]).hint().startswith("all differences are positive")
    assert stats([-1, 1]).hint() is None
    h = stats([-9, -3, 0, 3, 4, 100]).to_dict()["histogram"]
    assert h == {"<-3": 1, "-3": 1, "-2": 0, "-1": 0, "0": 1, "+1": 0, "+2": 0, "+3": 1, ">3": 2}


def test_statistics_survive_the_run_log_round_trip():
    v = _verdict(0, False, False)
    back = LayerVerdict(**json.loads(json.dumps(asdict(v))))
    assert back == v and isinstance(back.isolated_stats, DiffStats)
