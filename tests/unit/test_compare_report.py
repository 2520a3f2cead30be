"""Per-layer verdicts, labelled counts and the report files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from hil.device.counts import count_source
from hil.model import Layer, Network
from hil.report.json_file import write_json
from hil.report.junit import write_junit
from hil.validate.compare import compare_layer, crc32
from hil.validate.run_report import RunInfo, RunReport


def _network() -> Network:
    relu = Layer("relu", "arm_relu_q7", {"size": 4})
    soft = Layer("softmax", "arm_softmax_q7", {"dim_vec": 4})
    return Network("tiny", (4,), (relu, soft))


def _report(source: str = "systick", emulated: bool = True) -> RunReport:
    cs = count_source(source, emulated=emulated, icount_shift=0)
    return RunReport(_network(), RunInfo("tiny", "qemu-m7", "dsp", "portable", cs))


def test_full_dump_match_and_mismatch_statistics():
    exp = np.array([1, 2, 3, 4], dtype=np.int8)
    ok = compare_layer(0, 0, exp, exp.copy(), None, 10)
    assert ok.matched and ok.mismatches == 0 and ok.first_mismatch is None
    got = np.array([1, -2, 3, 9], dtype=np.int8)
    bad = compare_layer(0, 0, exp, got, None, 10)
    assert not bad.matched
    assert bad.mismatches == 2 and bad.max_abs_diff == 5
    assert (bad.first_mismatch, bad.expected_at_first, bad.got_at_first) == (1, 2, -2)


def test_extreme_values_do_not_wrap_in_the_difference():
    exp = np.array([-128], dtype=np.int8)
    got = np.array([127], dtype=np.int8)
    assert compare_layer(0, 0, exp, got, None, None).max_abs_diff == 255


def test_digest_only_verdicts():
    exp = np.arange(-5, 5, dtype=np.int8)
    assert compare_layer(0, 0, exp, None, crc32(exp), 1).matched
    v = compare_layer(0, 0, exp, None, crc32(exp) ^ 1, 1)
    assert not v.matched and v.mismatches is None and v.from_digest


def test_crc32_is_the_ieee_check_value():
    assert crc32(np.frombuffer(b"123456789", dtype=np.int8)) == 0xCBF43926


def test_count_sources_are_labelled():
    assert count_source("dwt", emulated=False, icount_shift=None).unit == "cycles"
    q = count_source("systick", emulated=True, icount_shift=0)
    assert (q.name, q.unit) == ("qemu-icount", "instructions")
    assert q.convert(1000) == 40000
    assert count_source("systick", emulated=True, icount_shift=3).convert(1000) == 5000
    # an emulator never yields "cycles"
    assert count_source("dwt", emulated=True, icount_shift=0).unit != "cycles"


def test_report_aggregates_and_writes_files(tmp_path):
    log = (tmp_path / "run.jsonl").open("w")
    r = RunReport(
        _network(),
        RunInfo(
            "tiny",
            "qemu-m7",
            "dsp",
            "portable",
            count_source("systick", emulated=True, icount_shift=0),
        ),
        log=log,
    )
    exp = np.array([1, 2, 3, 4], dtype=np.int8)
    r.add_vector([compare_layer(0, 0, exp, exp, None, 5), compare_layer(0, 1, exp, exp, None, 7)])
    r.add_vector(
        [
            compare_layer(1, 0, exp, exp, None, 5),
            compare_layer(1, 1, exp, exp[::-1].copy(), None, 7),
        ]
    )
    assert not r.passed
    assert r.first_bad_layer().name == "softmax"
    assert "first bad layer: 1 softmax" in r.summary_line()
    write_json(r, tmp_path / "r.json")
    write_junit(r, tmp_path / "r.xml")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["passed"] is False
    assert data["layers"][0]["count"] == 200 and data["layers"][0]["count_unit"] == "instructions"
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite.get("failures") == "1"
    cases = suite.findall("testcase")
    assert [c.find("failure") is not None for c in cases] == [False, True]
    log.close()
    lines = [json.loads(x) for x in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert lines[0]["record"] == "run" and len(lines) == 5


def test_report_with_no_vectors_does_not_pass():
    assert not _report().passed


@pytest.mark.parametrize("bad", [np.array([1, 2, 3], dtype=np.int8)])
def test_size_mismatch_is_a_mismatch(bad):
    exp = np.array([1, 2, 3, 4], dtype=np.int8)
    assert not compare_layer(0, 0, exp, bad, None, None).matched
