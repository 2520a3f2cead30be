"""The JSON report (hil run --json) against its documented schema, docs/report-schema.json."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from hil.report.context import baseline_entry
from hil.report.json_file import write_json
from hil.validate.baseline import baseline_from_report
from hil.validate.run_report import DeviceFailure, RunReport

from helpers.html_reports import make_report, run_context

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "report-schema.json").read_text())


def _validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA)


def _written(report: RunReport, tmp_path: Path) -> dict:
    write_json(report, tmp_path / "report.json")
    return json.loads((tmp_path / "report.json").read_text())


@pytest.mark.parametrize(
    ("perturb", "digests"), [(False, False), (True, False), (True, True)], ids=str
)
def test_real_reports_validate(tmp_path, perturb, digests):
    report = make_report(perturb=perturb, digests=digests)
    data = _written(report, tmp_path)
    _validator().validate(data)
    assert data["verdict"] == ("fail" if perturb else "pass")
    if perturb and not digests:
        # helpers.html_reports breaks conv2 and passes the reference outputs on after it
        assert data["first_wrong_kernel"]["name"] == "conv2"
        assert data["layers"][3]["isolated_stats"]["max_abs_diff"] == 3


@pytest.mark.parametrize("board", ["qemu-m7", "nucleo-f746"])
def test_the_run_context_validates(tmp_path, board):
    report = make_report(perturb=False)
    report.context = run_context(board)
    saved = baseline_from_report(report)
    report.context["baseline"] = baseline_entry(report, saved, tmp_path / "base.json", 0.02)
    data = _written(report, tmp_path)
    _validator().validate(data)
    assert data["context"]["flash_bytes"] == 61_234 and data["context"]["dump"] == "all"
    assert data["context"]["baseline"]["layers"][0]["over"] is False
    data["context"]["dump"] = "sometimes"
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(data)


def test_an_incomplete_report_validates(tmp_path):
    report = make_report(perturb=True, vectors=1)
    report.vectors_requested = 5
    report.mark_incomplete("interrupted")
    data = _written(report, tmp_path)
    _validator().validate(data)
    assert data["verdict"] == "fail" and data["incomplete_reason"] == "interrupted"


def test_the_schema_rejects_a_report_without_isolated_verdicts(tmp_path):
    data = _written(make_report(perturb=True), tmp_path)
    del data["layers"][3]["isolated"]
    with pytest.raises(jsonschema.ValidationError, match="isolated"):
        _validator().validate(data)
    data = _written(make_report(perturb=True), tmp_path)
    data["layers"][3]["isolated_stats"]["histogram"]["+4"] = 1
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(data)


def test_devices_and_their_failures_validate(tmp_path):
    report = make_report(perturb=False)
    report.add_devices(["place-a", "place-b"])
    report.device_vectors["place-a"] = report.vectors_done
    report.add_device_failure(DeviceFailure("place-b", 0, "no answer within 5.0 s", True))
    data = _written(report, tmp_path)
    _validator().validate(data)
    assert data["devices"][1] == {
        "name": "place-b",
        "vectors": 0,
        "failed": "no answer within 5.0 s",
    }
    data["device_failures"][0]["rerun"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(data)
