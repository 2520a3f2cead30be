"""Count baselines: what is saved, what is compared, and when the gate fails."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from hil.device.counts import count_source
from hil.errors import BudgetError, ConfigError
from hil.model import Layer, Network
from hil.validate.baseline import (
    SLACK_TICKS,
    Baseline,
    BaselineLayer,
    baseline_from_report,
    compare_counts,
    load_baseline,
    parse_tolerance,
    save_baseline,
)
from hil.validate.compare import compare_layer
from hil.validate.run_report import RunInfo, RunReport

EMULATED = count_source("systick", emulated=True, icount_shift=3)  # 5 instructions per tick


def _report(ticks: list[list[int]], source=EMULATED, board="qemu-m7") -> RunReport:
    net = Network(
        "tiny",
        (4,),
        (
            Layer("relu", "arm_relu_q7", {"size": 4}),
            Layer("softmax", "arm_softmax_q7", {"dim_vec": 4}),
        ),
    )
    r = RunReport(
        net,
        RunInfo(
            "tiny",
            board,
            "dsp",
            "portable",
            source,
            device={"model_hash": "aa55", "build_id": "b1"},
        ),
    )
    x = np.zeros(4, dtype=np.int8)
    for v, per_layer in enumerate(ticks):
        r.add_vector([compare_layer(v, i, x, x, None, t) for i, t in enumerate(per_layer)])
    return r


def _baseline(counts: list[int], **kw) -> Baseline:
    fields = dict(
        model="tiny",
        board="qemu-m7",
        count_source="qemu-icount",
        unit="instructions",
        resolution=5.0,
        model_hash="aa55",
        build_id="b1",
        vectors=3,
        layers=(
            BaselineLayer(0, "relu", "arm_relu_q7", counts[0]),
            BaselineLayer(1, "softmax", "arm_softmax_q7", counts[1]),
        ),
    )
    fields.update(kw)
    return Baseline(**fields)


def test_baseline_holds_median_counts_and_their_meaning(tmp_path):
    b = baseline_from_report(_report([[100, 40], [102, 41], [101, 90]]))
    assert [l.count for l in b.layers] == [505, 205]  # median ticks x 5
    assert (b.board, b.count_source, b.unit, b.resolution) == (
        "qemu-m7",
        "qemu-icount",
        "instructions",
        5.0,
    )
    assert (b.model_hash, b.build_id, b.vectors) == ("aa55", "b1", 3)
    path = tmp_path / "sub" / "base.json"
    save_baseline(b, path)
    assert load_baseline(path) == b
    assert json.loads(path.read_text())["layers"][1] == {
        "index": 1,
        "name": "softmax",
        "function": "arm_softmax_q7",
        "count": 205,
    }


def test_a_run_without_counts_cannot_be_a_baseline():
    r = _report([])
    with pytest.raises(ConfigError, match="no count"):
        baseline_from_report(r)


@pytest.mark.parametrize("text,value", [("2%", 0.02), ("0.5 %", 0.005), ("0", 0.0), ("0.1", 0.1)])
def test_tolerances(text, value):
    assert parse_tolerance(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["2", "-1%", "two", "", "5%%"])
def test_bad_tolerances_are_config_errors(text):
    with pytest.raises(ConfigError) as e:
        parse_tolerance(text)
    assert e.value.hint


def test_growth_past_the_tolerance_fails_with_a_table():
    old = _baseline([10_000, 1_000])
    ok = compare_counts(old, _baseline([10_190, 1_000]), 0.02)
    assert ok.passed
    ok.check()
    bad = compare_counts(old, _baseline([10_300, 900]), 0.02)
    assert [r.name for r in bad.regressions] == ["relu"]
    assert bad.rows[0].change == pytest.approx(0.03) and bad.rows[1].change == pytest.approx(-0.1)
    with pytest.raises(BudgetError) as e:
        bad.check()
    assert (
        e.value.exit_code == 6
        and "relu +3.00%" in e.value.message
        and "--save-baseline" in e.value.hint
    )
    from rich.console import Console

    from hil.report.baseline_table import comparison_table

    console = Console(width=200, record=True)
    console.print(comparison_table(bad))
    text = console.export_text()
    assert "10,000" in text and "10,300" in text and "+3.00%" in text and "total" in text


def test_an_exact_gate_still_allows_the_counter_resolution():
    old = _baseline([10_000, 300])
    assert compare_counts(old, _baseline([10_000 + SLACK_TICKS * 5, 300]), 0).passed
    assert not compare_counts(old, _baseline([10_000 + SLACK_TICKS * 5 + 1, 300]), 0).passed


def test_a_free_layer_that_starts_costing_is_flagged():
    old = _baseline([0, 100])
    c = compare_counts(old, _baseline([500, 100]), 0.5)
    assert not c.passed
    with pytest.raises(BudgetError, match="new cost"):
        c.check()


@pytest.mark.parametrize(
    "change,what",
    [
        ({"board": "qemu-m4"}, "board"),
        ({"count_source": "dwt", "unit": "cycles"}, "count source"),
        ({"unit": "ticks"}, "count unit"),
    ],
)
def test_unlike_counts_are_refused(change, what):
    with pytest.raises(ConfigError, match=what) as e:
        compare_counts(_baseline([1, 1]), _baseline([1, 1], **change), 0.02)
    assert "--save-baseline" in e.value.hint or "baseline recorded on" in e.value.hint


def test_a_different_model_is_refused():
    other = _baseline([1, 1], layers=(BaselineLayer(0, "relu", "arm_relu_q7", 1),))
    with pytest.raises(ConfigError, match="1 layers"):
        compare_counts(_baseline([1, 1]), other, 0.02)
    with pytest.raises(ConfigError, match="model"):
        compare_counts(_baseline([1, 1]), replace(_baseline([1, 1]), model="big"), 0.02)


def test_silicon_cycles_never_budget_emulated_instructions():
    silicon = baseline_from_report(
        _report([[100, 10]], source=count_source("dwt", emulated=False, icount_shift=None))
    )
    emulated = baseline_from_report(_report([[100, 10]]))
    with pytest.raises(ConfigError, match="cycles"):
        compare_counts(silicon, emulated, 0.5)


@pytest.mark.parametrize(
    "content,needle",
    [
        (None, "does not exist"),
        ("{not json", "not readable JSON"),
        ('{"format": 1}', "missing key"),
        ('{"format": 99}', "format 99"),
        ("[]", "malformed"),
    ],
)
def test_bad_baseline_files_name_the_file(tmp_path, content, needle):
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=needle) as e:
        load_baseline(path)
    assert str(path) in e.value.message and "--save-baseline" in e.value.hint
