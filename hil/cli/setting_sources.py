"""--verbose: say where each of a command's settings came from.

Settings resolve command line > environment variable > default. A setting
left unset is filled in later by what --help names for it (the board file,
the lab file, or a built-in choice). Click records which source gave each
value.
"""

from __future__ import annotations

from rich.markup import escape

from hil.cli.click_api import ParameterSource, get_current_context
from hil.cli.console import err_console, verbose


def _param(ctx, name: str):
    return next(p for p in ctx.command.params if p.name == name)


def on_command_line(name: str, ctx=None) -> bool:
    """Whether the current command's parameter ``name`` was typed on the command line."""
    ctx = ctx or get_current_context()
    return ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE


def as_given(ctx, name: str, value: str) -> str:
    """How the user spelled a setting, for messages: ``--timeout 0`` or ``HIL_TIMEOUT=0``."""
    param = _param(ctx, name)
    if ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT and param.envvar:
        return f"{param.envvar}={value}"
    return f"{param.opts[0]} {value}"


def setting_sources(ctx) -> list[tuple[str, object, str]]:
    """(setting, value, where it came from) for every parameter of ``ctx``'s command."""
    rows = []
    for param in ctx.command.params:
        if param.name in ("help",) or param.name is None or not param.expose_value:
            continue
        value = ctx.params.get(param.name)
        source = ctx.get_parameter_source(param.name)
        if source is ParameterSource.COMMANDLINE:
            origin = "command line" if not param.opts else f"command line ({param.opts[0]})"
        elif source is ParameterSource.ENVIRONMENT:
            origin = f"environment (${param.envvar})"
        elif value is None:
            origin = "nowhere: not set (--help says what applies)"
        else:
            origin = "default"
        rows.append((param.name, value, origin))
    return rows


def _report_then(invoke):
    def wrapped(ctx):
        if verbose():
            for name, value, origin in setting_sources(ctx):
                err_console.print(
                    f"[dim]setting {name} = {escape(str(value))} from {escape(origin)}[/]",
                    highlight=False,
                    soft_wrap=True,
                )
        return invoke(ctx)

    return wrapped


def report_sources(command):
    """Make every leaf command of a Click ``command`` print its settings under --verbose."""
    if hasattr(command, "commands"):  # a group
        for sub in command.commands.values():
            report_sources(sub)
    else:
        command.invoke = _report_then(command.invoke)
    return command
