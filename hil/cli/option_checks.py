"""Checks of option combinations that commands run before any build or device work.

An option that would be ignored is refused with a line naming it and the fix.
"Given" means typed on the command line: an environment variable set for a
whole shell (HIL_PROBE for a bench, say) is not an error for a command or a
board it does not apply to.
"""

from __future__ import annotations

from pathlib import Path

from hil.cli.setting_sources import on_command_line
from hil.errors import ConfigError


def at_least(option: str, value: int, minimum: int = 1, example: int | None = None) -> None:
    if value < minimum:
        raise ConfigError(
            f"{option} {value} must be at least {minimum}",
            hint=f"e.g. {option} {example if example is not None else minimum}",
        )


def check_cmsis_nn(path: Path | None, family: str = "q7") -> None:
    """A --cmsis-nn that is not a usable checkout for ``family`` is refused before the
    build starts (q7: the legacy API, up to CMSIS_5 5.9.0; s8: CMSIS-NN 4.0 and later)."""
    if path is None:
        return
    from hil.firmware.nn_backend import core_include_from_env, genuine_backend, genuine_s8_backend

    (genuine_s8_backend if family == "s8" else genuine_backend)(path, core_include_from_env())


def check_generated_only(inputs: Path | None, names: dict[str, str]) -> None:
    """With --inputs, the options that only shape generated vectors are refused."""
    if inputs is None:
        return
    for name, option in names.items():
        if on_command_line(name):
            raise ConfigError(
                f"{option} and --inputs both given: the vectors come from "
                f"{inputs}, so {option} would be ignored",
                hint=f"drop {option}, or drop --inputs to run generated vectors",
            )


def check_needs(option: str, name: str, needed: str, present: bool, value: str = "") -> None:
    """``option`` (parameter ``name``) only acts together with ``needed`` (taking ``value``)."""
    if on_command_line(name) and not present:
        raise ConfigError(
            f"{option} does nothing without {needed}",
            hint=f"add {needed} {value}".rstrip() + f", or drop {option}",
        )


def check_lab_options(board, options: dict[str, str]) -> None:
    """Probe, pack and lab file apply to pyOCD boards only."""
    if board.kind == "pyocd":
        return
    for name, option in options.items():
        if on_command_line(name):
            raise ConfigError(
                f"{option} is for boards flashed through pyOCD; board {board.id} "
                f"is of kind {board.kind}",
                hint=f"drop {option}, or pick a pyOCD board (see `hil boards`)",
            )
