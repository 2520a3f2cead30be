"""One rule for a command cut short: what was judged is kept, and nothing passes.

``judged_until_cut(report)`` wraps the part of a command that judges
vectors. Ctrl-C or SIGTERM there becomes ``Interrupted`` (exit 130) and any
other HilError is re-raised; either way the report is marked incomplete
first, so every sink written afterwards says so.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Protocol

from hil.errors import HilError, Interrupted, MismatchError, interruption_name

if TYPE_CHECKING:
    from hil.validate.run_report import RunReport


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


def raise_unless_passed(
    report: RunReport,
    *,
    where: str = "",
    mismatch_hint: str | None = None,
    incomplete_hint: str | None = None,
) -> None:
    """The run's verdict as the command's outcome: a mismatch is MismatchError (exit 5),
    a run that ended incomplete without an error of its own is a HilError; only a
    passed run returns. ``where`` ends the mismatch line (" under link faults")."""
    if report.verdict == "fail":
        bad = report.first_bad_layer()
        assert bad is not None  # a failed verdict has a layer that differs
        raise MismatchError(
            f"layer {bad.index} {bad.name} ({bad.function}) differs from the reference{where}",
            hint=mismatch_hint,
        )
    if report.verdict == "incomplete":
        raise HilError(f"INCOMPLETE: {report.incomplete_text()}", hint=incomplete_hint)
