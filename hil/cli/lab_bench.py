"""What `hil flash` and `hil run` add for a real board: probe options and a flash progress bar."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from hil.config.boards import Board


class FlashBar:
    """A progress callable for pyOCD (fractions 0..1); the bar appears on the first call."""

    def __init__(self, console: Console, label: str) -> None:
        self.console = console
        self.label = label
        self._progress: Progress | None = None
        self._task = None

    def __call__(self, fraction: float) -> None:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=1.0)
        self._progress.update(self._task, completed=min(max(fraction, 0.0), 1.0))
        if fraction >= 1.0:
            self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


@contextmanager
def runner_options(
    board: Board,
    console: Console,
    *,
    probe: str | None = None,
    pack: Path | None = None,
    lab: Path | None = None,
    port: str | None = None,
) -> Iterator[dict]:
    """The runner_options for open_device: the probe settings, only for pyOCD boards."""
    if board.kind != "pyocd":
        yield {}
        return
    bar = FlashBar(console, f"flashing {board.id}")
    try:
        yield {"probe": probe, "pack": pack, "lab": lab, "port": port, "progress": bar}
    finally:
        bar.close()
