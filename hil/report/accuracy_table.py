"""The terminal's accuracy section: per-layer quantisation diagnostics, then the one
plain accuracy line that ends a run with labels."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from hil.validate.accuracy import accuracy_line
from hil.validate.run_report import RunReport


def units(row: dict[str, Any]) -> str:
    """A row's number format: q7's fractional bits, or an s8 tensor's scale and zero point."""
    if row.get("out_frac_bits") is not None:
        return str(row["out_frac_bits"])
    if row.get("scale") is not None:
        return f"{row['scale']:.4g}, zp {row['zero_point']}"
    return ""


def _num(value: float | None, fmt: str) -> str:
    return "exact" if value is None else format(value, fmt)


def diagnostics_table(section: dict[str, Any]) -> Table:
    """One row per layer: how far its dequantised q7 output is from the float tensor."""
    s8 = section.get("family") == "s8"
    what = "int8 reference, dequantised," if s8 else "q7 reference"
    t = Table(
        title=f"quantisation diagnostics ({what} vs float model, {section['vectors']:,} inputs)"
    )
    for col, just in (
        ("#", "right"),
        ("layer", "left"),
        ("float tensor", "left"),
        ("scale" if s8 else "Q", "right"),
        ("cosine", "right"),
        ("RMSE", "right"),
        ("SNR dB", "right"),
        ("SNR drop", "right"),
        ("max |err|", "right"),
        ("saturated", "right"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    inp = section["input"]
    t.add_row(
        "", "input", "", units(inp), _num(inp["cosine"], ".4f"),
        _num(inp["rmse"], ".4g"), _num(inp["snr_db"], ".1f"), "",
        _num(inp["max_abs_error"], ".4g"), f"{inp['saturated_share']:.2%}",
    )  # fmt: skip
    for row in section["layers"]:
        if "skipped" in row:
            t.add_row(str(row["index"]), row["name"], row["float_tensor"] or "", "", row["skipped"])
            continue
        drop = row["snr_drop_db"]
        t.add_row(
            str(row["index"]),
            row["name"] + (" [bold red]<- largest SNR drop[/]" if row["worst"] else ""),
            row["float_tensor"],
            units(row),
            _num(row["cosine"], ".4f"),
            _num(row["rmse"], ".4g"),
            _num(row["snr_db"], ".1f"),
            "" if drop is None else f"{drop:.1f}",
            _num(row["max_abs_error"], ".4g"),
            f"{row['saturated_share']:.2%}",
        )
    return t


def print_accuracy(console: Console, report: RunReport) -> None:
    """The diagnostics (when float data was at hand), notes, then the accuracy line last."""
    section = report.accuracy
    assert section is not None
    if report.diagnostics is not None:
        console.print(diagnostics_table(report.diagnostics))
    if section.get("float_note"):
        console.print(f"note: {section['float_note']}", markup=False)
    console.print(f"{section['top1']}", markup=False)
    console.print(accuracy_line(section, report.network.family), markup=False)
