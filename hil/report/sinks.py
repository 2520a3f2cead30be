"""Where a finished (or cut-short) run report goes: the sinks a command asked for,
written in one place, in one order."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from rich.console import Console

from hil.validate.run_report import RunReport

Sink = Callable[[RunReport], None]


def report_sinks(
    console: Console | None = None,
    *,
    json: Path | None = None,
    junit: Path | None = None,
    html: Path | None = None,
) -> list[Sink]:
    """The terminal table first, then each report file that was asked for."""
    from hil.report.html import write_html
    from hil.report.json_file import write_json
    from hil.report.junit import write_junit
    from hil.report.terminal import render

    sinks: list[Sink] = []
    if console is not None:
        sinks.append(lambda r: render(r, console))
    for path, write in ((json, write_json), (junit, write_junit), (html, write_html)):
        if path is not None:
            sinks.append(lambda r, path=path, write=write: write(r, path))
    return sinks


def write_reports(report: RunReport, sinks: list[Sink]) -> None:
    for sink in sinks:
        sink(report)
