"""One rule for a command cut short: what was judged is kept, and nothing passes.

``judged_until_cut(report)`` wraps the part of a command that judges
vectors. Ctrl-C or SIGTERM there becomes ``Interrupted`` (exit 130) and any
other HilError is re-raised; either way the report is marked incomplete
first, so every sink written afterwards says so.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Protocol

from hil.errors import HilError, Interrupted, interruption_name


class CutShortReport(Protocol):
    def mark_incomplete(self, reason: str) -> None: ...

    def progress_text(self) -> str: ...


@contextmanager
def judged_until_cut(report: CutShortReport, *, hint: str | None = None) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt as exc:
        report.mark_incomplete(f"interrupted ({interruption_name(exc)})")
        raise Interrupted(f"INTERRUPTED after {report.progress_text()}", hint=hint) from exc
    except HilError as exc:
        report.mark_incomplete(exc.message)
        raise
