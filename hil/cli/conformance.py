"""``hil conformance``: check the reference against golden-vector folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from hil.cli.console import console
from hil.conformance import render_report, run_conformance
from hil.errors import MismatchError
from hil.reference.spec import VARIANTS


def conformance(
    directory: Annotated[Path, typer.Argument(
        help="Golden-vector folder: <function>/<case>.npz, or one function's folder.")],
    variant: Annotated[str, typer.Option(
        help=f"Reference variant: {' or '.join(VARIANTS)} (pooling differs).")] = "dsp",
    function: Annotated[Optional[str], typer.Option(
        help="Run only this CMSIS-NN function's cases.")] = None,
) -> None:
    """Run every golden vector through the host reference and compare bit-exactly."""
    report = run_conformance(directory, variant=variant, function=function)
    render_report(report, console)
    if not report.ok:
        raise MismatchError(f"{report.failed} of {report.passed + report.failed} "
                            "conformance cases failed",
                            hint="see the first mismatch per function above")


def register(app: typer.Typer) -> None:
    app.command("conformance")(conformance)
