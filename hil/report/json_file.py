"""The JSON sink: the whole report in one file, written when the run ends."""

from __future__ import annotations

import json
from pathlib import Path

from hil.outputs import write_text
from hil.validate.run_report import RunReport


def write_json(report: RunReport, path: Path) -> None:
    write_text(path, json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n", "--json")
