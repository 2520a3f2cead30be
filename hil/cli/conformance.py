"""``hil conformance``: golden-vector folders through the host reference or a device."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from hil.cli.build import build_image
from hil.cli.console import console
from hil.cli.options import BuildDirOpt, CmsisNnOpt, PortOpt, TimeoutOpt
from hil.conformance import render_report, run_conformance
from hil.errors import ConfigError, MismatchError
from hil.reference.spec import VARIANTS


def _count_cases(directory: Path) -> int:
    return sum(1 for _ in directory.rglob("*.npz"))


def conformance(
    directory: Annotated[Path, typer.Argument(
        help="Golden-vector folder: <function>/<case>.npz, or one function's folder.")],
    variant: Annotated[Optional[str], typer.Option(
        help=f"Reference variant: {' or '.join(VARIANTS)} (pooling differs) "
             "[default: dsp; with --board, the device's].")] = None,
    function: Annotated[Optional[str], typer.Option(
        help="Run only this CMSIS-NN function's cases.")] = None,
    skip_function: Annotated[Optional[List[str]], typer.Option(
        "--skip-function", help="Leave out this function's cases (repeatable).")] = None,
    board: Annotated[Optional[str], typer.Option(
        "--board", "-b", help="Run each case on this board's firmware kernels instead of "
                              "the host reference.")] = None,
    cmsis_nn: CmsisNnOpt = None,
    build_dir: BuildDirOpt = None,
    port: PortOpt = None,
    timeout: TimeoutOpt = 10.0,
) -> None:
    """Run every golden vector through the host reference (or a device) and compare bit-exactly."""
    skip = frozenset(skip_function or ())
    if board is None:
        report = run_conformance(directory, variant=variant or "dsp", function=function, skip=skip)
        render_report(report, console)
    else:
        report = _on_device(directory, board, variant, function, skip, cmsis_nn, build_dir,
                            port, timeout)
    if not report.ok:
        raise MismatchError(f"{report.failed} of {report.passed + report.failed} "
                            "conformance cases failed",
                            hint="see the first mismatch per function above")


def _on_device(directory, board, variant, function, skip, cmsis_nn, build_dir, port, timeout):
    from hil.boards import load_board
    from hil.deploy import default_build_root, open_device
    from hil.device_conformance import device_runner
    from hil.model.examples import build_example

    b = load_board(board)
    if variant is not None and variant != b.variant:
        raise ConfigError(f"board {b.id} runs the {b.variant} kernel path, not {variant}",
                          hint=f"drop --variant, or pass --variant {b.variant}")
    root = build_dir or default_build_root()
    # Any image carries the kernel arena; the smallest example keeps the build quick.
    net = build_example("lenet5")
    image = build_image(b, net, root, cmsis_nn)
    with open_device(b, image, log_dir=root / "logs", port=port, timeout=timeout) as dev:
        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), console=console, transient=True)
        with progress:
            task = progress.add_task(f"cases on {b.id}", total=_count_cases(Path(directory)))
            report = run_conformance(
                directory, variant=dev.info.variant, function=function, skip=skip,
                kernel_runner=device_runner(dev.session, dev.counts),
                on_case=lambda fn, case: progress.update(
                    task, advance=1, description=f"{fn} {case}"))
        render_report(report, console, where=f"{b.id}, {dev.info.backend} kernels",
                      count_label=f"median {dev.counts.unit} ({dev.counts.name})")
    return report


def register(app: typer.Typer) -> None:
    app.command("conformance")(conformance)
