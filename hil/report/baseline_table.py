"""The count budget as a rich table: each layer's baseline and current count and the change."""

from __future__ import annotations

from rich.table import Table

from hil.validate.baseline import SLACK_TICKS, BudgetComparison, LayerChange


def comparison_table(comparison: BudgetComparison) -> Table:
    """One row per layer, then the total; over-budget changes in red, savings in green."""
    unit = comparison.current.unit
    t = Table(
        title=f"{unit} ({comparison.current.count_source}) against baseline "
        f"(max regression {comparison.max_regression:.2%} + {SLACK_TICKS} ticks)"
    )
    for col in ("#", "layer", f"baseline {unit}", f"now {unit}", "change"):
        t.add_column(col, justify="left" if col == "layer" else "right")
    for r in (*comparison.rows, comparison.total()):
        t.add_row(
            "" if r.index < 0 else str(r.index),
            r.name,
            f"{r.baseline:,}",
            f"{r.now:,}",
            _coloured_change(r),
        )
    return t


def _coloured_change(row: LayerChange) -> str:
    style = "red" if row.over else ("green" if row.change < 0 else "")
    return f"[{style}]{row.change_text}[/]" if style else row.change_text
