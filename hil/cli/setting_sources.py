"""--verbose: say where each of a command's settings came from.

Settings resolve command line > environment variable > default. A setting
left unset is filled in later by what --help names for it (the board file,
the lab file, or a built-in choice). Click records which source gave each
value.
"""

from __future__ import annotations

from hil.cli.click_api import ParameterSource
from hil.cli.console import err_console, verbose


def setting_sources(ctx) -> list[tuple[str, object, str]]:
    """(setting, value, where it came from) for every parameter of ``ctx``'s command."""
    rows = []
    for param in ctx.command.params:
        if param.name in ("help",) or param.name is None:
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
                err_console.print(f"[dim]setting {name} = {value!s} from {origin}[/]",
                                  highlight=False, soft_wrap=True)
        return invoke(ctx)
    return wrapped


def report_sources(command):
    """Make every leaf command of a Click ``command`` print its settings under --verbose."""
    if hasattr(command, "commands"):   # a group
        for sub in command.commands.values():
            report_sources(sub)
    else:
        command.invoke = _report_then(command.invoke)
    return command
