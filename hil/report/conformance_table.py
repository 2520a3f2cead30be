"""A conformance report as a rich table, one row per function, and its summary line."""

from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.table import Table

from hil.validate.conformance import ConformanceReport, FunctionResult

HOST_REFERENCE = "host reference"
TICKS_LABEL = "median ticks"


def conformance_table(
    report: ConformanceReport, *, count_label: str = TICKS_LABEL, where: str = HOST_REFERENCE
) -> Table:
    """The count column appears only when some case was timed (a device run)."""
    with_ticks = any(f.median_ticks is not None for f in report.functions)
    table = Table(title=f"conformance: {report.directory} ({where}, {report.variant})")
    table.add_column("function", no_wrap=True)
    for col in ("cases", "passed", "failed"):
        table.add_column(col, justify="right")
    table.add_column("first mismatch", overflow="fold")
    if with_ticks:
        table.add_column(count_label, justify="right")
    for f in report.functions:
        table.add_row(*_row(f, with_ticks))
    return table


def _row(f: FunctionResult, with_ticks: bool) -> list[str]:
    first = f.first_failure
    row = [
        f.function,
        str(len(f.cases)),
        str(f.passed),
        f"[red]{f.failed}[/]" if f.failed else "0",
        first.describe() if first else "",
    ]
    if with_ticks:
        ticks = f.median_ticks
        row.append("" if ticks is None else f"{ticks:.0f}")
    return row


def render_conformance(
    report: ConformanceReport,
    console: Console,
    *,
    count_label: str = TICKS_LABEL,
    where: str = HOST_REFERENCE,
    notes: Sequence[str] = (),
) -> None:
    """The table, any ``notes`` (where failing cases went), then the plain line
    'N passed, M failed'."""
    console.print(conformance_table(report, count_label=count_label, where=where))
    for note in notes:  # whole lines: a path in them must stay copyable
        console.print(note, markup=False, highlight=False, soft_wrap=True)
    console.print(report.summary(), markup=False, highlight=False)
