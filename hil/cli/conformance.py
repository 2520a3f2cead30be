"""``hil conformance``: golden vectors, or generated cases, through the host reference or a device.

Three sources of cases: a stored golden-vector folder (DIR), ``--random N``
(drawn cases run on a device and judged against the host reference of its
variant), and ``--generate DIR`` (drawn cases run on a device, its outputs
written as a new golden set). The work lives in hil.validate; this module
checks the options, connects and renders.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Callable, Iterator, List, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from hil import __version__
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
from hil.config.boards import Board
from hil.errors import ConfigError, Interrupted, MismatchError, interruption_name
from hil.reference.spec import KERNEL_SPECS, VARIANTS
from hil.report.conformance_table import render_conformance
from hil.validate.conformance import run_conformance

GENERATED_PER_FUNCTION = 20  # --generate's random cases per function without --random
FAILURES_FOLDER = "conformance-failures"


def _count_cases(directory: Path) -> int:
    return sum(1 for _ in directory.rglob("*.npz"))


def conformance(
    directory: Annotated[
        Optional[Path],
        typer.Argument(
            help="Golden-vector folder: <function>/<case>.npz, or one function's folder. "
            "Left out with --random or --generate, which draw their own cases."
        ),
    ] = None,
    variant: Annotated[
        Optional[str],
        typer.Option(
            help=f"Reference variant: {' or '.join(VARIANTS)} (pooling differs) "
            "[default: dsp; with --board, the device's]."
        ),
    ] = None,
    function: Annotated[
        Optional[List[str]],
        typer.Option(help="Run only this CMSIS-NN function's cases (repeatable)."),
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
    random_cases: Annotated[
        Optional[int],
        typer.Option(
            "--random",
            help="Draw N random valid cases per function, plus its edge cases, run them on "
            "--board and compare each with the host reference; with --generate, the random "
            f"cases per function it writes [default there: {GENERATED_PER_FUNCTION}].",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the drawn cases (--random, --generate).")] = 0,
    save_failures: Annotated[
        Optional[Path],
        typer.Option(
            "--save-failures",
            help="Folder where --random saves its failing cases as golden vectors, to replay "
            f"with `hil conformance DIR --board B` [default: <build-dir>/{FAILURES_FOLDER}/"
            "<UTC time>].",
        ),
    ] = None,
    generate: Annotated[
        Optional[Path],
        typer.Option(
            "--generate",
            help="Write a new golden set to this folder from what --board's kernels compute "
            "(drawn cases, the device's outputs as the expected ones, and a README.md).",
        ),
    ] = None,
    family: Annotated[
        str,
        typer.Option(
            help="Kernel family: q7 (the legacy CMSIS_5 functions) or s8 (the int8 "
            "CMSIS-NN >= 4.0 functions; --random on --board only).",
        ),
    ] = "q7",
    rounding: Annotated[
        Optional[str],
        typer.Option(
            help="s8 requantisation the image is built with and the reference uses: double "
            "or single (CMSIS_NN_USE_SINGLE_ROUNDING) [default: double]."
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
    """Run golden vectors (or drawn cases) through the host reference or a device, bit-exactly."""
    skip = frozenset(skip_function or ())
    on_device = board is not None or place is not None
    _check_family(family, rounding, directory, generate, save_failures, variant, place)
    drawn = _check_sources(directory, random_cases, generate, save_failures, seed, on_device)
    wiring = {
        "port": port,
        "place": place,
        "wait": wait,
        "coordinator": coordinator,
        "attach": attach,
    }
    device = _DeviceRun(board, variant, cmsis_nn, build_dir, timeout, wiring)
    if drawn and family == "s8":
        from hil.validate.s8_random_cases import select_s8_functions

        assert random_cases is not None
        functions = select_s8_functions(function or (), skip)
        _random_s8(device, functions, random_cases, seed, rounding or "double")
        return
    if drawn:
        from hil.validate.random_cases import select_functions

        functions = select_functions(function or (), skip)
        if generate is not None:
            count = GENERATED_PER_FUNCTION if random_cases is None else random_cases
            _generate(device, generate, functions, count, seed)
        else:
            assert random_cases is not None
            _random(device, functions, random_cases, seed, save_failures)
        return
    assert directory is not None
    _check_skips(directory, skip)
    if not on_device:
        _refuse_device_options()
        report = run_conformance(directory, variant=variant or "dsp", function=function, skip=skip)
        render_conformance(report, console)
    else:
        report = _stored(device, directory, function, skip)
    _verdict(report)


def _verdict(report, hint: str | None = None) -> None:
    if not report.ok:
        raise MismatchError(
            f"{report.failed} of {report.passed + report.failed} conformance cases failed",
            hint=hint or "see the first mismatch per function above",
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


FAMILIES = ("q7", "s8")


def _check_family(family, rounding, directory, generate, save_failures, variant, place) -> None:
    """--family s8 runs drawn cases on a board only; --rounding belongs to it."""
    if family not in FAMILIES:
        raise ConfigError(
            f"--family {family}: no such kernel family", hint="use --family q7 or --family s8"
        )
    if rounding is not None and rounding not in ("double", "single"):
        raise ConfigError(
            f"--rounding {rounding}: use double or single", hint="e.g. --rounding single"
        )
    if family == "q7":
        if rounding is not None:
            raise ConfigError(
                "--rounding applies to the s8 family", hint="add --family s8, or drop --rounding"
            )
        return
    given = [
        (directory is not None, "DIR (golden vectors are q7)"),
        (generate is not None, "--generate"),
        (save_failures is not None, "--save-failures"),
        (variant is not None, "--variant (every s8 kernel path gives the same bytes)"),
        (place is not None, "--place"),
    ]
    for present, what in given:
        if present:
            raise ConfigError(
                f"--family s8 runs --random cases on --board only, not {what}",
                hint="e.g. hil conformance --random 50 --family s8 --board qemu-m7",
            )


def _check_sources(directory, random_cases, generate, save_failures, seed, on_device) -> bool:
    """Exactly one source of cases, and only the options that source uses.
    True when the cases are drawn (--random, --generate)."""
    if generate is not None and directory is not None:
        raise ConfigError(
            "DIR and --generate both given: DIR holds stored cases, --generate writes a new set",
            hint="drop DIR and give the new set's folder to --generate",
        )
    if generate is None and random_cases is not None and directory is not None:
        raise ConfigError(
            "DIR and --random both given: DIR holds stored cases, --random draws its own",
            hint="drop DIR to run random cases, or drop --random to run DIR's",
        )
    if directory is None and generate is None and random_cases is None:
        raise ConfigError(
            "no cases to run: give a golden-vector folder DIR, --random N or --generate DIR",
            hint="e.g. hil conformance DIR, or hil conformance --random 20 --board qemu-m7",
        )
    if save_failures is not None and (random_cases is None or generate is not None):
        raise ConfigError(
            "--save-failures applies to --random runs only",
            hint="add --random N (without --generate), or drop --save-failures",
        )
    if directory is not None:
        if on_command_line("seed"):
            raise ConfigError(
                "--seed applies to drawn cases (--random, --generate), not to DIR's",
                hint="drop --seed, or drop DIR and add --random N",
            )
        return False
    option = "--generate" if generate is not None else "--random"
    if not on_device:
        why = (
            "it records what a device's kernels compute"
            if generate is not None
            else "without a device the host reference would only be compared with itself"
        )
        raise ConfigError(
            f"{option} needs --board: {why}", hint="add --board BOARD (see `hil boards`)"
        )
    if random_cases is not None and random_cases < 0:
        raise ConfigError(
            f"--random {random_cases} must be 0 or more (0: the edge cases only)",
            hint="e.g. --random 20",
        )
    if seed < 0:
        raise ConfigError(f"--seed {seed} must be 0 or more", hint="e.g. --seed 1")
    return True


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


class _DeviceRun:
    """The board's image built and connected, and a progress bar over its cases."""

    def __init__(self, board, variant, cmsis_nn, build_dir, timeout, wiring) -> None:
        self.board_name, self.variant, self.cmsis_nn = board, variant, cmsis_nn
        self.build_dir, self.timeout, self.wiring = build_dir, timeout, wiring
        self.board: Board | None = None  # once connected() has resolved it

    @contextmanager
    def connected(self, check_paths: Callable[[Path], None] = lambda root: None) -> Iterator:
        """The connected device; ``check_paths(build_root)`` runs before any build."""
        from hil.cli.build import check_outputs
        from hil.cli.click_api import get_current_context
        from hil.cli.console import say_plain
        from hil.cli.option_checks import check_cmsis_nn
        from hil.cli.option_groups import farm_request
        from hil.config.boards import DEFAULT_BOARD, load_board
        from hil.device.benches import on_benches

        check_cmsis_nn(self.cmsis_nn)
        from hil.device.connect import connect
        from hil.device.target import Target
        from hil.model.examples import build_example

        b = load_board(self.board_name or DEFAULT_BOARD)  # with --place alone, its tag decides
        farm = farm_request(self.wiring, None, b, self.board_name is not None)
        root = check_outputs(self.build_dir, folders=("logs",))
        check_paths(root)
        # Any image carries the kernel arena; the smallest example keeps the build quick.
        target = Target(
            board=b,
            network=build_example("lenet5"),
            model="lenet5",
            build_root=root,
            cmsis_nn=self.cmsis_nn,
            port=self.wiring["port"],
            timeout=self.timeout,
            attach=self.wiring["attach"],
            farm=farm,
            board_given=self.board_name is not None,
        )
        target = get_current_context().with_resource(on_benches(target, say=say_plain))
        self.board = b = target.board
        if self.variant is not None and self.variant != b.variant:
            raise ConfigError(
                f"board {b.id} runs the {b.variant} kernel path, not {self.variant}",
                hint=f"drop --variant, or pass --variant {b.variant}",
            )
        image = build_with_status(target)
        with connect(target, image=image) as (dev,):
            yield dev

    @contextmanager
    def progress(self, total: int, interrupted: Callable[[], str]) -> Iterator:
        """``on_case(function, case_id)`` for the bar; an interrupt ends with the line
        'INTERRUPTED after N of TOTAL cases on B (...)' and ``interrupted()``."""
        assert self.board is not None
        bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        )
        started = [0]
        task = bar.add_task(f"cases on {self.board.id}", total=total)

        def on_case(fn: str, case: str) -> None:
            started[0] += 1
            bar.update(task, advance=1, description=escape(f"{fn} {case}"))

        try:
            with bar:
                yield on_case
        except KeyboardInterrupt as exc:
            raise Interrupted(
                f"INTERRUPTED after {max(started[0] - 1, 0)} of {total} cases on "
                f"{self.board.id} ({interruption_name(exc)}); {interrupted()}",
                hint="run it again to the end",
            ) from exc

    @contextmanager
    def kernels_connected(self, family: str, rounding: str) -> Iterator:
        """A device running ``family``'s kernels-only image, family and board checked."""
        from hil.cli.build import check_outputs
        from hil.cli.console import say_plain
        from hil.config.boards import DEFAULT_BOARD, load_board
        from hil.device.connect import connect_kernels
        from hil.firmware.nn_backend import core_include_from_env, genuine_s8_backend

        if self.cmsis_nn is not None:  # refused before the build starts
            genuine_s8_backend(self.cmsis_nn, core_include_from_env())
        b = self.board = load_board(self.board_name or DEFAULT_BOARD)
        root = check_outputs(self.build_dir, folders=("logs",))
        with connect_kernels(
            b,
            family,
            build_root=root,
            cmsis_nn=self.cmsis_nn,
            rounding=rounding,
            port=self.wiring["port"],
            timeout=self.timeout,
            attach=self.wiring["attach"],
            say=say_plain,
        ) as dev:
            yield dev


def _random_s8(device: _DeviceRun, functions, count: int, seed: int, rounding: str) -> None:
    from hil.validate.s8_conformance import device_s8_runner, failure_lines, run_s8_differential
    from hil.validate.s8_random_cases import generate_s8_set

    with device.kernels_connected("s8", rounding) as dev:
        cases = generate_s8_set(functions, count, seed, dev.info.kernel_arena_bytes)
        total = sum(len(c) for c in cases.values())
        with device.progress(total, lambda: "no conformance verdict") as on_case:
            report, failing = run_s8_differential(
                cases,
                device_s8_runner(dev.session, dev.counts),
                rounding,  # type: ignore[arg-type]
                f"{count} random s8 cases per function (every fifth an edge case), seed {seed}",
                on_case=on_case,
            )
        render_conformance(
            report,
            console,
            notes=failure_lines(report, failing),
            where=f"{dev.board.id}, {dev.info.backend} s8 kernels",
            count_label=f"median {dev.counts.unit} ({dev.counts.name})",
        )
        _verdict(report, hint="see the failing cases and their parameters above")


def _runner(dev):
    from hil.validate.device_conformance import device_runner

    return device_runner(dev.session, dev.counts)


def _where(dev) -> dict[str, str]:
    return {
        "where": f"{dev.board.id}, {dev.info.backend} kernels",
        "count_label": f"median {dev.counts.unit} ({dev.counts.name})",
    }


def _stored(device: _DeviceRun, directory: Path, function, skip):
    with device.connected() as dev:
        total = _count_cases(Path(directory))
        with device.progress(total, lambda: "no conformance verdict") as on_case:
            report = run_conformance(
                directory,
                variant=dev.info.variant,
                function=function,
                skip=skip,
                kernel_runner=_runner(dev),
                on_case=on_case,
            )
        render_conformance(report, console, **_where(dev))
    return report


def _provenance(dev, cmsis_nn, seed: int, count: int) -> dict[str, object]:
    info = dev.info
    facts: dict[str, object] = {
        "board": dev.board.id,
        "core": info.core,
        "kernels (backend)": info.backend,
    }
    if cmsis_nn is not None:
        facts["CMSIS-NN source"] = f"`{cmsis_nn}`"
    facts.update(
        {
            "kernel path (reference variant)": info.variant,
            "firmware build id": f"`{info.build_id}`",
            "kernel arena": f"{info.kernel_arena_bytes} bytes",
            "hil version": __version__,
            "seed": seed,
            "random cases per function": f"{count} (plus each function's edge cases)",
        }
    )
    return facts


class _SavedFailures:
    """A --random run's failing cases, written as golden vectors as they are found."""

    def __init__(self, given: Path | None) -> None:
        self.given = given
        self.stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.folder = Path()
        self.saved = 0

    def check(self, build_root: Path) -> None:
        """Before the build: the folder they go to can be made and holds no set yet."""
        from hil.validate.golden_files import check_new_set_dir

        self.folder = self.given or build_root / FAILURES_FOLDER / self.stamp
        check_new_set_dir(self.folder, "--save-failures" if self.given else "--build-dir")

    def save(self, case, expected) -> None:
        from hil.validate.golden_files import write_case

        write_case(self.folder, case, expected)
        self.saved += 1

    def replay(self, board_id: str) -> str:
        return f"hil conformance {self.folder} --board {board_id}"

    def finish(self, dev, facts: dict[str, object]) -> str:
        """The README beside the saved cases; a line saying where they are ('' if none)."""
        from hil.validate.golden_files import write_readme

        if not self.saved:
            return ""
        write_readme(
            self.folder,
            "Failing cases of hil conformance --random",
            [
                f"Each case failed on {dev.board.id} ({dev.info.backend} kernels): the expected "
                f"outputs are the host reference's ({dev.info.variant}). Replay them with "
                f"`{self.replay(dev.board.id)}`; `hil conformance {self.folder}` checks the "
                "host reference against them.",
            ],
            facts,
        )
        return f"{self.saved} failing cases saved in {self.folder}"


def _random(device: _DeviceRun, functions, count: int, seed: int, save_failures) -> None:
    from hil.validate.differential import run_differential
    from hil.validate.random_cases import generate_set

    failures = _SavedFailures(save_failures)
    with device.connected(failures.check) as dev:
        cases = generate_set(functions, count, seed, dev.info.kernel_arena_bytes)
        facts = _provenance(dev, device.cmsis_nn, seed, count)

        def interrupted() -> str:
            saved = failures.finish(dev, facts)
            return "no conformance verdict" + (f"; {saved}" if saved else "")

        total = sum(len(c) for c in cases.values())
        with device.progress(total, interrupted) as on_case:
            report = run_differential(
                cases,
                _runner(dev),
                dev.info.variant,
                f"{count} random + edge cases per function, seed {seed}",
                on_case=on_case,
                on_failure=failures.save,
            )
        saved = failures.finish(dev, facts)
        render_conformance(report, console, notes=[saved] if saved else [], **_where(dev))
        replay = f"replay the failing cases: {failures.replay(dev.board.id)}"
        _verdict(report, hint=replay if saved else None)


def _generate(device: _DeviceRun, directory: Path, functions, count: int, seed: int) -> None:
    from hil.validate.differential import record_golden
    from hil.validate.golden_files import check_new_set_dir, write_case, write_readme
    from hil.validate.random_cases import generate_set

    def check_paths(build_root: Path) -> None:
        check_new_set_dir(directory, "--generate")

    with device.connected(check_paths) as dev:
        cases = generate_set(functions, count, seed, dev.info.kernel_arena_bytes)
        total = sum(len(c) for c in cases.values())
        with device.progress(total, lambda: f"the set in {directory} is incomplete") as on_case:
            recorded = record_golden(
                cases, _runner(dev), lambda case, out: write_case(directory, case, out), on_case
            )
        facts = _provenance(dev, device.cmsis_nn, seed, count)
        write_readme(
            directory,
            f"Golden vectors from {dev.board.id} ({dev.info.backend} kernels)",
            [
                "Written by `hil conformance --generate`: drawn cases of the CMSIS-NN legacy "
                "q7 functions, each with the output the device computed stored as the "
                "expected one, in the golden-vector format of hil's docs/conformance.md.",
                f"Replay: `hil conformance {directory} --variant {dev.info.variant}` (host "
                f"reference) or `hil conformance {directory} --board {dev.board.id}`.",
            ],
            facts,
        )
        console.print(
            f"wrote {recorded.written} cases of {len(cases)} functions to {directory}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        if recorded.refused:
            fn, case_id, why = recorded.refused[0]
            raise MismatchError(
                f"the device's kernels refused {len(recorded.refused)} cases, left out of the "
                f"set (first: {fn} {case_id}: {why})",
                hint="valid calls must succeed; check the kernels the image carries",
            )


def register(app: typer.Typer) -> None:
    app.command("conformance")(conformance)
