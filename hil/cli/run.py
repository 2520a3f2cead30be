"""`hil run`: the main job. Build, start, stream vectors, judge every layer, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hil.cli.build import build_image
from hil.cli.console import console
from hil.cli.cut_short import judged_until_cut, raise_unless_passed
from hil.cli.lab_bench import runner_options
from hil.cli.options import (
    DEFAULT_BOARD,
    DEFAULT_MODEL,
    BoardOpt,
    BuildDirOpt,
    CmsisNnOpt,
    LabOpt,
    ModelOpt,
    PackOpt,
    PortOpt,
    ProbeOpt,
    TimeoutOpt,
)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_cmd(
        board: BoardOpt = DEFAULT_BOARD,
        model: ModelOpt = DEFAULT_MODEL,
        vectors: Annotated[
            int,
            typer.Option("--vectors", "-n", help="How many seeded random input vectors to run."),
        ] = 4,
        inputs: Annotated[
            Optional[Path],
            typer.Option(
                "--inputs",
                help="int8 .npy with shape (N, *input_shape) or input_shape; replaces --vectors.",
            ),
        ] = None,
        seed: Annotated[int, typer.Option(help="Seed of the generated vectors.")] = 0,
        dump: Annotated[
            Optional[str],
            typer.Option(
                help="Layer outputs on the wire: all (full tensors), mismatch (CRC-32 digests, "
                "full tensors re-fetched for a mismatching vector), none (digests only) "
                "[default: all on emulators, mismatch on real boards]."
            ),
        ] = None,
        json_path: Annotated[
            Optional[Path], typer.Option("--json", help="Write the per-layer report as JSON.")
        ] = None,
        junit_path: Annotated[
            Optional[Path],
            typer.Option("--junit", help="Write a JUnit XML report (one test case per layer)."),
        ] = None,
        html_path: Annotated[
            Optional[Path],
            typer.Option(
                "--html",
                help="Write a self-contained HTML report: layer table, count chart, "
                "heatmaps of mismatching layers.",
            ),
        ] = None,
        save_baseline_path: Annotated[
            Optional[Path],
            typer.Option(
                "--save-baseline", help="Write this run's per-layer counts as a baseline file."
            ),
        ] = None,
        baseline_path: Annotated[
            Optional[Path],
            typer.Option(
                "--baseline",
                help="Fail (exit 6) when a layer's count grows past this baseline "
                "by more than --max-regression.",
            ),
        ] = None,
        max_regression: Annotated[
            str,
            typer.Option(
                "--max-regression",
                help="Growth per layer tolerated by --baseline: 2%, 0.5%, 0 for an exact gate.",
            ),
        ] = "2%",
        log_path: Annotated[
            Optional[Path],
            typer.Option(
                "--log",
                help="JSON Lines log of every verdict as it arrives "
                "[default: a new <build-dir>/results/<board>-<model>-<UTC time>.jsonl "
                "per run, <board>-<model>-latest.jsonl links to it].",
            ),
        ] = None,
        cmsis_nn: CmsisNnOpt = None,
        build_dir: BuildDirOpt = None,
        port: PortOpt = None,
        timeout: TimeoutOpt = 10.0,
        probe: ProbeOpt = None,
        pack: PackOpt = None,
        lab: LabOpt = None,
        link_faults: Annotated[
            Optional[str],
            typer.Option(
                "--link-faults",
                envvar="HIL_LINK_FAULTS",
                help="Inject link faults, e.g. 'drop=0.001,flip=0.001,dup=0,garbage=0.0001,"
                "cut_after=20000,cuts=1,seed=7' (see the README's reliability section).",
            ),
        ] = None,
        link_baud: Annotated[
            Optional[int],
            typer.Option(
                "--link-baud",
                help="Pace the link at this baud rate (10 bits per byte), as a "
                "real UART would; emulators are otherwise unthrottled.",
            ),
        ] = None,
        devices: Annotated[
            int,
            typer.Option(
                "--devices",
                help="Share the vectors across this many emulated devices at once "
                "(one emulator each); verdicts merge into one report.",
            ),
        ] = 1,
        resume: Annotated[
            bool,
            typer.Option(
                "--resume",
                help="Continue the run recorded in --log (default: the latest run's "
                "log): keep its judged vectors, run the rest (same board, model "
                "and inputs only).",
            ),
        ] = False,
    ) -> None:
        """Run MODEL on BOARD and check every layer of every vector bit-exactly."""
        from hil.cli.build import check_outputs
        from hil.cli.click_api import get_current_context
        from hil.cli.option_checks import (
            at_least,
            check_cmsis_nn,
            check_generated_only,
            check_lab_options,
            check_needs,
        )
        from hil.cli.soak import fault_injector, print_link_stats
        from hil.config.boards import load_board
        from hil.device.connect import EMULATED_KINDS
        from hil.device.shard import open_devices
        from hil.errors import ConfigError
        from hil.firmware.image import symbolized
        from hil.model.hashing import model_hash
        from hil.model.inputs import generated_inputs, load_inputs
        from hil.model.io import load_model
        from hil.report.html import write_html
        from hil.report.json_file import write_json
        from hil.report.junit import write_junit
        from hil.report.run_log import build_dir_lock, latest_log, new_log_path, point_latest
        from hil.report.terminal import render
        from hil.validate.baseline import load_baseline, parse_tolerance
        from hil.validate.check import DUMP_CHOICES
        from hil.validate.resume import (
            LazyLog,
            check_same_run,
            inputs_digest,
            inputs_record,
            read_log,
        )
        from hil.validate.run_report import RunInfo, RunReport
        from hil.validate.sharded import check_sharded

        check_generated_only(inputs, {"vectors": "--vectors/-n", "seed": "--seed"})
        check_needs(
            "--max-regression", "max_regression", "--baseline", baseline_path is not None, "FILE"
        )
        at_least("--devices", devices)
        check_cmsis_nn(cmsis_nn)
        root = check_outputs(
            build_dir,
            {
                "--json": json_path,
                "--junit": junit_path,
                "--html": html_path,
                "--log": log_path,
                "--save-baseline": save_baseline_path,
            },
            folders=("results", "logs"),
        )
        gate = load_baseline(baseline_path) if baseline_path else None
        tolerance = parse_tolerance(max_regression)
        b = load_board(board)
        net = load_model(model)
        if dump is None:
            dump = "all" if b.kind in EMULATED_KINDS else "mismatch"
        if dump not in DUMP_CHOICES:
            raise ConfigError(
                f"unknown --dump {dump!r}", hint=f"use one of {', '.join(DUMP_CHOICES)}"
            )
        check_lab_options(b, {"probe": "--probe", "pack": "--pack", "lab": "--lab"})
        if devices > 1 and (b.kind not in EMULATED_KINDS or port):
            raise ConfigError(
                f"--devices {devices}: several devices at once work with emulated boards only",
                hint="use --devices 1 (the default) for a board on a port or a probe; run one "
                "hil per bench for several real boards",
            )
        x = load_inputs(inputs, net) if inputs is not None else generated_inputs(net, vectors, seed)
        if gate is not None:
            gate.check_target(b.id, net.name)
        # One run per build directory at a time, held until the command ends.
        get_current_context().with_resource(build_dir_lock(root))
        fresh_log = log_path is None and not resume
        if log_path is None:
            log_path = (
                latest_log(root, b.id, net.name) if resume else new_log_path(root, b.id, net.name)
            )
        digest = inputs_digest(x)
        made_from = inputs_record(inputs, vectors, seed)
        previous = None
        if resume:
            previous = read_log(log_path, len(net.layers))
            check_same_run(
                previous,
                {
                    "model": net.name,
                    "board": b.id,
                    "inputs_sha256": digest,
                    "device.model_hash": model_hash(net)[:8].hex(),
                    "inputs": made_from,
                },
                log_path,
            )
        faults = fault_injector(link_faults, link_baud)

        image = build_image(b, net, root, cmsis_nn)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        on_open = (lambda: point_latest(root, b.id, net.name, log_path)) if fresh_log else None
        with (
            LazyLog(log_path, on_open) as log,
            runner_options(b, console, probe=probe, pack=pack, lab=lab, port=port) as options,
            symbolized(image.elf),
            open_devices(
                b,
                image,
                devices,
                log_dir=root / "logs",
                port=port,
                timeout=timeout,
                runner_options=options,
                link_faults=faults,
                layer_macs=[layer.macs for layer in net.layers],
            ) as devs,
        ):
            for dev in devs:
                info = dev.session.check_image(
                    model_hash(net), b.id, model=model, variant=b.variant
                )
            dev = devs[0]
            report = RunReport(
                net,
                RunInfo(
                    net.name,
                    b.id,
                    info.variant,
                    info.backend,
                    dev.counts,
                    device=_hello_dict(info),
                    inputs_sha256=digest,
                    inputs=made_from,
                ),
                log=log,
                vectors_requested=len(x),
            )
            start = 0
            if previous is not None:
                for verdicts in previous.vectors:  # rewritten first: the log stays one valid run
                    report.add_vector(verdicts)
                start = previous.done
                console.print(f"resuming at vector {start} of {len(x)} ({log_path})", markup=False)
            progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            try:
                with judged_until_cut(report, hint=_resume_hint(log_path)), progress:
                    task = progress.add_task(f"{net.name} on {b.id}", total=len(x), completed=start)
                    check_sharded(
                        devs,
                        net,
                        x,
                        report,
                        variant=info.variant,
                        dump=dump,
                        start=start,
                        on_vector=lambda _i: progress.advance(task),
                    )
            finally:
                # Whatever was judged before a failure still makes it into every report,
                # marked incomplete when the run was cut short.
                render(report, console)
                if json_path:
                    write_json(report, json_path)
                if junit_path:
                    write_junit(report, junit_path)
                if html_path:
                    write_html(report, html_path)
                for d in devs:
                    print_link_stats(console, d.session, faults)
        raise_unless_passed(
            report,
            mismatch_hint=f"per-layer details: {html_path or json_path or log_path}",
            incomplete_hint=_resume_hint(log_path),
        )
        if gate is not None or save_baseline_path:
            _budget(report, gate, tolerance, save_baseline_path)


def _budget(report, gate, tolerance: float, save_to: Path | None) -> None:
    """Write this run's counts, then gate them against the stored baseline."""
    from hil.validate.baseline import baseline_from_report, compare_counts, save_baseline

    now = baseline_from_report(report)
    if save_to:
        save_baseline(now, save_to)
        console.print(f"baseline written to {save_to}", markup=False)
    if gate is not None:
        comparison = compare_counts(gate, now, tolerance)
        console.print(comparison.table())
        if gate.model_hash != now.model_hash:
            console.print(
                f"[yellow]note:[/] the baseline was recorded with model hash "
                f"{gate.model_hash}, this run has {now.model_hash}"
            )
        comparison.check()


def _resume_hint(log_path: Path) -> str:
    return f"every verdict so far is in {log_path}; add --resume (same options) to run the rest"


def _hello_dict(info) -> dict:
    d = dict(vars(info))
    d["model_hash"] = info.model_hash.hex()
    return d
