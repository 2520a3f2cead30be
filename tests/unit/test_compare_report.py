"""Per-layer verdicts, labelled counts and the report files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from rich.console import Console

from hil.device.counts import count_source
from hil.model import Layer, Network
from hil.report.json_file import write_json
from hil.report.junit import write_junit
from hil.report.terminal import render
from hil.validate.compare import compare_layer, crc32
from hil.validate.run_report import DeviceFailure, RunInfo, RunReport


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


LOST = DeviceFailure(
    "place-b", 5, "the device is gone: QEMU was killed by SIGKILL (status -9)", True
)


def _report_with_a_lost_device() -> RunReport:
    r = _report()
    r.vectors_requested = 2
    r.add_devices(["place-a", "place-b"])
    exp = np.array([1, 2, 3, 4], dtype=np.int8)
    for vector, device in ((0, "place-a"), (5, "place-a")):
        r.add_vector([compare_layer(vector, i, exp, exp, None, 5) for i in range(2)], device=device)
    r.add_device_failure(LOST)
    return r


def test_a_lost_device_is_a_warning_after_the_summary_and_the_run_still_passes():
    r = _report_with_a_lost_device()
    assert r.passed and r.verdict == "pass"
    console = Console(record=True, width=250, force_terminal=True, color_system="standard")
    render(r, console)
    lines = console.export_text(clear=False).rstrip().splitlines()
    assert lines[-2].startswith("PASS: 2 of 2 vectors")
    assert lines[-1] == (
        "warning: device place-b failed at vector 5 (the device is gone: QEMU was killed by "
        "SIGKILL (status -9)); vector 5 was re-run on the other devices"
    )
    coloured = console.export_text(styles=True).rstrip().splitlines()[-1]
    assert coloured.startswith("\x1b[33m")  # yellow


def test_json_and_junit_name_the_lost_device(tmp_path):
    r = _report_with_a_lost_device()
    write_json(r, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["passed"] is True
    assert data["devices"] == [
        {"name": "place-a", "vectors": 2, "failed": None},
        {"name": "place-b", "vectors": 0, "failed": LOST.error},
    ]
    assert data["device_failures"] == [
        {"device": "place-b", "vector": 5, "error": LOST.error, "rerun": True}
    ]
    write_junit(r, tmp_path / "r.xml")
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    assert suite.find("system-err").text == f"warning: {LOST.text()}"


def test_a_run_without_lost_devices_has_no_system_err(tmp_path):
    r = _report()
    exp = np.array([1, 2, 3, 4], dtype=np.int8)
    r.add_vector([compare_layer(0, i, exp, exp, None, 5) for i in range(2)])
    write_junit(r, tmp_path / "r.xml")
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite.find("system-err") is None
    assert r.to_dict()["device_failures"] == [] and r.to_dict()["devices"] == []


def test_the_run_log_records_a_lost_device(tmp_path):
    with (tmp_path / "run.jsonl").open("w") as log:
        r = RunReport(_network(), _report().info, log=log)
        r.add_device_failure(LOST)
    records = [json.loads(x) for x in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert records[-1] == {
        "record": "device_failure",
        "device": "place-b",
        "vector": 5,
        "error": LOST.error,
        "rerun": True,
    }
