"""`hil boards`: list the boards hil knows."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from hil.cli.console import console


def register(app: typer.Typer) -> None:
    @app.command("boards")
    def boards_cmd() -> None:
        """List the boards defined under boards/*.toml."""
        from hil.config.boards import load_all_boards

        table = Table(title="boards")
        for col in ("id", "kind", "core", "variant", "description"):
            table.add_column(col)
        for b in load_all_boards().values():
            table.add_row(b.id, b.kind, b.core, b.variant, escape(b.description))
        console.print(table)
