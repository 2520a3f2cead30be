"""The ``hil`` command line: the root app only assembles commands.

Every command lives in its own module under ``hil.cli`` and exposes
``register(app)``; the modules are found, not listed. ``main`` is the one error boundary: a HilError becomes
one red line plus a hint and the error class's exit code.
"""

from __future__ import annotations

import importlib
import pkgutil
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

import typer
from rich.markup import escape

from hil.cli.command_tree import finish
from hil.cli.console import err_console, set_verbose, verbose
from hil.cli.setting_sources import report_sources
from hil.errors import HilError, Terminated

app = typer.Typer(
    name="hil",
    help="Hardware-in-the-loop testing of CMSIS-NN networks (q7 and int8) on Cortex-M boards.",
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
        False,
        "--version",
        help="Print hil's version and exit.",
        is_eager=True,
        callback=_print_version,
    ),
) -> None:
    set_verbose(verbose_flag)


def _register_commands() -> None:
    """Every module of this package that defines ``register(app)`` adds its commands:
    a new command is a new module, with no list to edit."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    with _sigterm_as_interrupt():
        return _main(argv)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (how CI cancels a job) ends a command exactly as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def on_sigterm(_signum, _frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the cleanup finish undisturbed
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    try:
        # Typer turns a KeyboardInterrupt that escapes a command into exit code 130.
        command = report_sources(finish(typer.main.get_command(app)))
        code = command.main(args=argv, prog_name="hil", standalone_mode=False)
        if code == 130:
            return _interrupted()
        if isinstance(code, int) and code:
            return code
    except HilError as exc:
        if verbose():
            err_console.print_exception()
        # Messages quote user text ([metadata], paths): shown as written, never as markup.
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/] {escape(exc.hint)}", highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:  # outside a command's own invocation (Typer catches inside)
        return _interrupted()
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors and friends
        from hil.cli.click_api import Abort, ClickException

        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: its help is the answer
            exc.show()
            return 2
        if isinstance(exc, ClickException):
            # Usage errors look like every other error: one line, then where to look.
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else _command_path(argv)
            err_console.print(
                f"[bold red]error:[/] {escape(exc.format_message())}", highlight=False
            )
            err_console.print(f"[yellow]hint:[/] see {escape(where)} --help", highlight=False)
            return 2
        if isinstance(exc, Abort):
            err_console.print("[bold red]aborted[/]")
            return 130
        raise
    return 0


def _interrupted() -> int:
    """Ctrl-C or SIGTERM that no command turned into its own Interrupted error."""
    err_console.print(
        "[bold red]INTERRUPTED[/] before it finished; nothing was judged complete",
        highlight=False,
    )
    return 130


def _command_path(argv: list[str] | None) -> str:
    """The subcommand ``argv`` names, e.g. ``hil bench device``, for a usage error that
    carries no context."""
    path, command = ["hil"], typer.main.get_command(app)
    for token in sys.argv[1:] if argv is None else argv:
        commands = getattr(command, "commands", None)
        if not commands or (token not in commands and not token.startswith("-")):
            break
        if token in commands:
            path.append(token)
            command = commands[token]
    return " ".join(path)


def entry() -> None:
    sys.exit(main())
