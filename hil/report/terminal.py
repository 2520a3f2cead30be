"""The terminal sink: a run report as a rich table, its total, its verdict line and a
warning for each device lost during the run."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hil.validate.run_report import RunReport


def report_table(report: RunReport) -> Table:
    src = report.info.count_source
    t = Table(
        title=f"{report.info.model} on {report.info.board} "
        f"({report.progress_text()}, reference variant {report.info.variant})"
    )
    for col, just in (
        ("#", "right"),
        ("layer", "left"),
        ("function", "left"),
        ("output", "left"),
        ("verdict", "left"),
        ("mismatches", "right"),
        ("max |diff|", "right"),
        ("first mismatch", "left"),
        (f"{src.unit} ({src.name})", "right"),
        ("MACs", "right"),
        (f"MACs/{src.unit[:-1] if src.unit.endswith('s') else src.unit}", "right"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for s in report.layers:
        n = report.count(s)
        kind, words = s.verdict()
        blame = report.blame_text(s, short=True)
        if s.only_inherits:
            kind = "inherits"  # wrong input from an earlier layer; the kernel itself is right
        verdict = f"[{_COLOURS[kind]}]{escape(words + (f'; {blame}' if blame else ''))}[/]"
        mism = str(s.mismatching_elements) + ("+?" if s.unknown_mismatches else "")
        ff = s.first_failure
        first = (
            ""
            if ff is None
            else f"v{ff['vector']}[{ff['index']}] {ff['expected']}->{ff['got']}"
            if ff["index"] is not None
            else f"v{ff['vector']} (digest)"
        )
        t.add_row(
            str(s.index),
            s.name,
            s.function,
            "x".join(map(str, s.output_shape)),
            verdict,
            mism,
            str(s.max_abs_diff),
            first,
            "" if n is None else f"{n:,}",
            f"{s.macs:,}",
            "" if not n or not s.macs else f"{s.macs / n:.3f}",
        )
    return t


def render(report: RunReport, console: Console) -> None:
    console.print(report_table(report))
    totals = [report.count(s) for s in report.layers]
    if all(n is not None for n in totals) and totals:
        src = report.info.count_source
        console.print(f"total per inference: {sum(totals):,} {src.unit} (source: {src.name})")
    console.print(report.summary_line(), markup=False)
    # A device lost mid-run whose vector went elsewhere: a warning, not a mismatch (one
    # that was not re-run ended the run, and its error says so).
    for failure in (f for f in report.device_failures if f.rerun):
        console.print(f"warning: {failure.text()}", style="yellow", markup=False, highlight=False)


_COLOURS = {"match": "green", "differ": "red", "inherits": "magenta", "not judged": "yellow"}
