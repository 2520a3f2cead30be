"""A board that already runs the image: nothing to flash or start, only its UART.

``--attach`` and the farm's benches without a probe use it. hil cannot see
such a device's power or reset, so the runner offers no optional
capability; whether the device runs the right network is checked by the
session's HELLO (the model hash), as for every other runner.
"""

from __future__ import annotations

from pathlib import Path

from hil.config.boards import Board
from hil.errors import ConfigError
from hil.runners.base import Runner


class AttachedRunner(Runner):
    """The device at ``port`` (a pyserial URL), as it is."""

    def __init__(self, board: Board, elf: Path | None, log_dir: Path, *, port: str | None) -> None:
        if not port:
            raise ConfigError(
                f"--attach on {board.id}: no port to attach to",
                hint="name the board's UART with --port URL (or port = ... in the lab file), "
                "or use --place for a labgrid place",
            )
        self.board = board
        self.port = port
        self._log_path = Path(log_dir) / f"attached-{board.id}.log"

    @property
    def log_path(self) -> Path:
        return self._log_path

    def start(self) -> str:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_path.write_text(f"attached to {self.port}: no image flashed by hil\n")
        return self.port

    def alive(self) -> bool:
        return True  # unknowable from here: a lost link says so itself (LinkBroken/LinkTimeout)

    def stop(self) -> None:
        pass
