"""How an image gets onto a device and where its UART is.

``runner_for(board, elf, log_dir)`` picks the runner for the board's kind;
every runner follows the lifecycle documented in hil.runners.base.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from hil.config.boards import ACCESS_TYPES, Board
from hil.errors import ConfigError
from hil.runners.base import EXIT_STATUS, ICOUNT, RESET, Runner

# kind -> (module, class), as each kind's access type names its runner; modules are
# imported only when used (pyocd is heavy).
RUNNERS: dict[str, tuple[str, str]] = {
    kind: access.runner.partition(":")[::2] for kind, access in ACCESS_TYPES.items()
}

__all__ = ["EXIT_STATUS", "ICOUNT", "RESET", "RUNNERS", "Runner", "runner_for"]


def runner_for(board: Board, elf: Path, log_dir: Path, **options) -> Runner:
    module_name, class_name = RUNNERS[board.kind]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConfigError(
            f"no runner for boards of kind {board.kind!r} in this version of hil",
            hint="use a board of kind qemu",
        ) from exc
    return getattr(module, class_name)(board, elf, log_dir, **options)
