"""``hil conformance``: golden-vector folders through the host reference or a device."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from hil.cli.build import build_with_status
from hil.cli.console import console
from hil.cli.options import (
    AttachOpt,
    BuildDirOpt,
    CmsisNnOpt,
    CoordinatorOpt,
    PlaceOpt,
    PortOpt,
    TimeoutOpt,
    WaitOpt,
)
from hil.cli.setting_sources import on_command_line
from hil.errors import ConfigError, Interrupted, MismatchError, interruption_name
from hil.reference.spec import KERNEL_SPECS, VARIANTS
from hil.report.conformance_table import render_conformance
from hil.validate.conformance import run_conformance


def _count_cases(directory: Path) -> int:
    return sum(1 for _ in directory.rglob("*.npz"))


def conformance(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Golden-vector folder: <function>/<case>.npz, or one function's folder."
        ),
    ],
    variant: Annotated[
        Optional[str],
        typer.Option(
            help=f"Reference variant: {' or '.join(VARIANTS)} (pooling differs) "
            "[default: dsp; with --board, the device's]."
        ),
    ] = None,
    function: Annotated[
        Optional[str], typer.Option(help="Run only this CMSIS-NN function's cases.")
    ] = None,
    skip_function: Annotated[
        Optional[List[str]],
        typer.Option("--skip-function", help="Leave out this function's cases (repeatable)."),
    ] = None,
    board: Annotated[
        Optional[str],
        typer.Option(
            "--board",
            "-b",
            help="Run each case on this board's firmware kernels instead of the host reference.",
        ),
    ] = None,
    cmsis_nn: CmsisNnOpt = None,
    build_dir: BuildDirOpt = None,
    port: PortOpt = None,
    timeout: TimeoutOpt = 10.0,
    place: PlaceOpt = None,
    wait: WaitOpt = False,
    coordinator: CoordinatorOpt = None,
    attach: AttachOpt = False,
) -> None:
    """Run every golden vector through the host reference (or a device) and compare bit-exactly."""
    skip = frozenset(skip_function or ())
    _check_skips(directory, skip)
    if board is None and place is None:
        _refuse_device_options()
        report = run_conformance(directory, variant=variant or "dsp", function=function, skip=skip)
        render_conformance(report, console)
    else:
        wiring = {
            "port": port,
            "place": place,
            "wait": wait,
            "coordinator": coordinator,
            "attach": attach,
        }
        report = _on_device(
            directory, board, variant, function, skip, cmsis_nn, build_dir, timeout, wiring
        )
    if not report.ok:
        raise MismatchError(
            f"{report.failed} of {report.passed + report.failed} conformance cases failed",
            hint="see the first mismatch per function above",
        )


# Options that only shape a device run.
DEVICE_OPTIONS = {
    "cmsis_nn": "--cmsis-nn",
    "build_dir": "--build-dir",
    "port": "--port",
    "timeout": "--timeout",
    "wait": "--wait",
    "coordinator": "--coordinator",
    "attach": "--attach",
}


def _refuse_device_options() -> None:
    for name, option in DEVICE_OPTIONS.items():
        if on_command_line(name):
            raise ConfigError(
                f"{option} applies to a run on a device; without --board, "
                "conformance runs the host reference",
                hint=f"add --board BOARD (see `hil boards`) to run the cases on "
                f"a device's kernels, or drop {option}",
            )


def _check_skips(directory: Path, skip: frozenset[str]) -> None:
    """Every --skip-function names a CMSIS-NN function or a function folder of the set."""
    known = set(KERNEL_SPECS)
    if directory.is_dir():
        known |= {d.name for d in directory.iterdir() if d.is_dir()}
    unknown = sorted(skip - known)
    if unknown:
        raise ConfigError(
            f"--skip-function {unknown[0]}: no such function",
            hint="known functions: " + ", ".join(sorted(known)),
        )


def _on_device(directory, board, variant, function, skip, cmsis_nn, build_dir, timeout, wiring):
    from hil.cli.build import check_outputs
    from hil.cli.click_api import get_current_context
    from hil.cli.console import say_plain
    from hil.cli.option_checks import check_cmsis_nn
    from hil.cli.option_groups import farm_request
    from hil.config.boards import DEFAULT_BOARD, load_board
    from hil.device.benches import on_benches

    check_cmsis_nn(cmsis_nn)
    from hil.device.connect import connect
    from hil.device.target import Target
    from hil.model.examples import build_example
    from hil.validate.device_conformance import device_runner

    b = load_board(board or DEFAULT_BOARD)  # with --place alone, the place's tag decides
    farm = farm_request(wiring, None, b, board is not None)
    root = check_outputs(build_dir, folders=("logs",))
    # Any image carries the kernel arena; the smallest example keeps the build quick.
    target = Target(
        board=b,
        network=build_example("lenet5"),
        model="lenet5",
        build_root=root,
        cmsis_nn=cmsis_nn,
        port=wiring["port"],
        timeout=timeout,
        attach=wiring["attach"],
        farm=farm,
        board_given=board is not None,
    )
    target = get_current_context().with_resource(on_benches(target, say=say_plain))
    b = target.board
    if variant is not None and variant != b.variant:
        raise ConfigError(
            f"board {b.id} runs the {b.variant} kernel path, not {variant}",
            hint=f"drop --variant, or pass --variant {b.variant}",
        )
    image = build_with_status(target)
    with connect(target, image=image) as (dev,):
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        )
        total = _count_cases(Path(directory))
        started = [0]

        def on_case(fn: str, case: str) -> None:
            started[0] += 1
            progress.update(task, advance=1, description=escape(f"{fn} {case}"))

        try:
            with progress:
                task = progress.add_task(f"cases on {b.id}", total=total)
                report = run_conformance(
                    directory,
                    variant=dev.info.variant,
                    function=function,
                    skip=skip,
                    kernel_runner=device_runner(dev.session, dev.counts),
                    on_case=on_case,
                )
        except KeyboardInterrupt as exc:
            # No verdict from part of a set: a case never run may be the one that fails.
            raise Interrupted(
                f"INTERRUPTED after {max(started[0] - 1, 0)} of {total} cases on "
                f"{b.id} ({interruption_name(exc)}); no conformance verdict",
                hint="run it again to the end",
            ) from exc
        render_conformance(
            report,
            console,
            where=f"{b.id}, {dev.info.backend} kernels",
            count_label=f"median {dev.counts.unit} ({dev.counts.name})",
        )
    return report


def register(app: typer.Typer) -> None:
    app.command("conformance")(conformance)
