"""Finishing touches on the Click command tree Typer builds, applied once to every command.

* Every subcommand takes ``-v/--verbose`` too, with the same effect as before it
  (``hil run -v`` is ``hil -v run``).
* Flags show no value type in --help: Typer prints ``<bool>`` beside them as if
  they took a value.
* Help texts are shown as written: as rich markup, ``[default: ...]`` would vanish.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from hil.cli.console import set_verbose

VERBOSE_HELP = "Show tracebacks and where each setting came from."


def _on_verbose(value: bool) -> None:
    if value:  # never undoes a -v given before the subcommand
        set_verbose(True)


def verbose_option():
    """``-v/--verbose`` as Typer declares it, for commands declared without it."""
    holder = typer.Typer(add_completion=False)

    @holder.command()
    def _holder(
        verbose: Annotated[
            bool,
            typer.Option(
                "--verbose",
                "-v",
                help=VERBOSE_HELP,
                callback=_on_verbose,
                is_eager=True,
                expose_value=False,
            ),
        ] = False,
    ) -> None:
        """Only carries the option."""

    return next(p for p in typer.main.get_command(holder).params if p.name == "verbose")


def finish(command):
    """Apply the touches above to ``command`` (the root) and everything under it."""
    _finish(command, verbose_option(), set(), root=True)
    return command


def _finish(command, verbose, seen: set[int], *, root: bool) -> None:
    if not root and not any(p.name == "verbose" for p in command.params):
        command.params.append(verbose)
    markup = getattr(command, "rich_markup_mode", None) == "rich"
    if markup and command.help:
        command.help = escape(command.help)
    params = [*command.params, command.get_help_option(typer.Context(command))]
    for param in params:
        if param is None or id(param) in seen:  # one option object may serve many commands
            continue
        seen.add(id(param))
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        if markup and getattr(param, "help", None):
            param.help = escape(param.help)
    for sub in getattr(command, "commands", {}).values():
        _finish(sub, verbose, seen, root=False)
