"""What commands show for a real board: a flash progress bar."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn


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

    def __enter__(self) -> "FlashBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
