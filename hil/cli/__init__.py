"""The ``hil`` command line: the root app only assembles commands.

Every command lives in its own module under ``hil.cli`` and exposes
``register(app)``. ``main`` is the one error boundary: a HilError becomes
one red line plus a hint and the error class's exit code.
"""

from __future__ import annotations

import importlib
import sys

import typer

from hil.cli.console import err_console, set_verbose, verbose
from hil.cli.setting_sources import report_sources
from hil.errors import HilError

COMMAND_MODULES = (
    "conformance",
    "bench",
    "build",
    "flash",
    "run",
    "soak",
    "boards",
    "model",
)

app = typer.Typer(
    name="hil",
    help="Hardware-in-the-loop testing of CMSIS-NN q7 networks on Cortex-M boards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from hil import __version__

        print(f"hil {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose_flag: bool = typer.Option(
        False, "--verbose", "-v", help="Show tracebacks and where each setting came from."
    ),
    version: bool = typer.Option(
        False, "--version", help="Print hil's version and exit.", is_eager=True,
        callback=_print_version,
    ),
) -> None:
    set_verbose(verbose_flag)


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"hil.cli.{_name}")
    except ModuleNotFoundError as exc:  # command not built yet
        if exc.name != f"hil.cli.{_name}":
            raise
        continue
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    try:
        report_sources(typer.main.get_command(app)).main(args=argv, standalone_mode=False)
    except HilError as exc:
        if verbose():
            err_console.print_exception()
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors and friends
        from hil.cli.click_api import Abort, ClickException

        if isinstance(exc, ClickException):
            exc.show()
            return 2
        if isinstance(exc, Abort):
            err_console.print("[bold red]aborted[/]")
            return 130
        raise
    return 0


def entry() -> None:
    sys.exit(main())
