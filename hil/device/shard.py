"""Several devices at once, each with its own log directory, closed together."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

from hil.config.boards import Board
from hil.device.connect import Device, open_device
from hil.firmware.build import FirmwareImage


@contextmanager
def open_devices(
    board: Board, image: FirmwareImage, count: int, *, log_dir: Path, **options
) -> Iterator[list[Device]]:
    """``count`` devices running ``image``; each logs to its own directory."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                open_device(board, image, log_dir=log_dir / f"device{k}", **options)
            )
            for k in range(count)
        ]
