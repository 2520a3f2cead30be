"""`hil run`: the main job. Build, start, stream vectors, judge every layer, report."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hil.cli.console import console
from hil.cli.cut_short import judged_until_cut, raise_unless_passed
from hil.cli.flash_bar import FlashBar
from hil.cli.option_groups import DEVICE, FARM, LINK, ROUNDING, TARGET, Options, with_options
from hil.cli.options import DumpOpt, InjectFaultOpt


def register(app: typer.Typer) -> None:
    @app.command("run")
    @with_options(TARGET, ROUNDING, DEVICE, FARM, LINK)
    def run_cmd(
        opts: Options,
        vectors: Annotated[
            int,
            typer.Option("--vectors", "-n", help="How many seeded random input vectors to run."),
        ] = 4,
        inputs: Annotated[
            Optional[Path],
            typer.Option(
                "--inputs",
                help="int8 .npy with shape (N, *input_shape) or input_shape; replaces --vectors. "
                "Models with a [quantisation] table also take float32 in the float model's "
                "layout: hil quantises them.",
            ),
        ] = None,
        labels: Annotated[
            Optional[Path],
            typer.Option(
                "--labels",
                help="int .npy of class ids, shape (N,), one per input: adds top-1 accuracy "
                "(float model, q7 reference, device).",
            ),
        ] = None,
        dataset: Annotated[
            Optional[str],
            typer.Option(
                "--dataset",
                help="A data set shipped with hil (e.g. mnist-test): float inputs and labels; "
                "replaces --inputs and --labels.",
            ),
        ] = None,
        float_model: Annotated[
            Optional[Path],
            typer.Option(
                "--float",
                help="s8 models: the float model (.tflite or .onnx) the int8 one came from; "
                "with --labels, adds its accuracy.",
            ),
        ] = None,
        seed: Annotated[int, typer.Option(help="Seed of the generated vectors.")] = 0,
        dump: DumpOpt = None,
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
        devices: Annotated[
            int,
            typer.Option(
                "--devices",
                help="Share the vectors across this many devices at once: emulators (one "
                "each), or labgrid places with --reserve; verdicts merge into one report.",
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
        inject_fault: InjectFaultOpt = None,
    ) -> None:
        """Run MODEL on BOARD and check every layer of every vector bit-exactly."""
        from hil.cli.build import build_with_status
        from hil.cli.click_api import get_current_context
        from hil.cli.console import say_plain
        from hil.cli.option_checks import at_least, check_generated_only, check_needs
        from hil.cli.options import inject_fault_line, parse_inject_fault
        from hil.cli.soak import print_link_stats
        from hil.device.benches import on_benches
        from hil.device.connect import connect
        from hil.model.hashing import model_hash
        from hil.model.inputs import generated_inputs
        from hil.report.accuracy_table import print_accuracy
        from hil.report.context import (
            baseline_entry,
            collect_context,
            finish_context,
            started_clock,
        )
        from hil.report.run_log import build_dir_lock, latest_log, new_log_path, point_latest
        from hil.report.sinks import report_sinks, write_reports
        from hil.validate.accuracy import load_run_data, prepare_accuracy
        from hil.validate.baseline import load_baseline, parse_tolerance
        from hil.validate.check import judging_mode
        from hil.validate.resume import (
            LazyLog,
            check_same_run,
            inputs_digest,
            inputs_record,
            read_log,
        )
        from hil.validate.run_report import RunInfo, RunReport
        from hil.validate.sharded import check_sharded

        started_at, started = started_clock()
        check_generated_only(inputs, {"vectors": "--vectors/-n", "seed": "--seed"})
        _check_dataset_alone(dataset)
        check_needs(
            "--max-regression", "max_regression", "--baseline", baseline_path is not None, "FILE"
        )
        at_least("--devices", devices)
        outputs = {
            "--json": json_path,
            "--junit": junit_path,
            "--html": html_path,
            "--log": log_path,
            "--save-baseline": save_baseline_path,
        }
        target = opts.resolve(outputs, folders=("results", "logs"))
        _check_float(target, float_model, labels is not None or dataset is not None)
        layer_names = [layer.name for layer in target.network.layers]
        if inject_fault is not None:
            fault = parse_inject_fault(inject_fault, layer_names)
            target = dataclasses.replace(target, inject_fault=fault)
        _check_devices(target, devices)
        data = load_run_data(target.network, inputs=inputs, labels=labels, dataset=dataset)
        gate = load_baseline(baseline_path) if baseline_path else None
        tolerance = parse_tolerance(max_regression)
        # Places are held from here until the command ends, whatever happens.
        target = get_current_context().with_resource(
            on_benches(target, devices=devices, say=say_plain)
        )
        if target.benches:
            devices = len(target.benches)
        b, net, root = target.board, target.network, target.build_root
        mode = judging_mode(dump or ("all" if target.emulated else "mismatch"), "--dump")
        x = data.x if data is not None else generated_inputs(net, vectors, seed)
        if data is not None and data.quantised_text():
            console.print(data.quantised_text(), markup=False)
        accuracy = (
            prepare_accuracy(
                net,
                x,
                data.labels,
                target.reference_variant,
                x_float=data.x_float,
                input_saturated=data.saturated,
                float_model=float_model,
            )
            if data is not None and data.labels is not None
            else None
        )
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
        made_from = data.made_from if data is not None else inputs_record(inputs, vectors, seed)
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

        image = build_with_status(target)
        if target.inject_fault is not None:
            console.print(inject_fault_line(target.inject_fault, layer_names), markup=False)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        on_open = (lambda: point_latest(root, b.id, net.name, log_path)) if fresh_log else None
        sinks = report_sinks(console, json=json_path, junit=junit_path, html=html_path)
        with (
            LazyLog(log_path, on_open) as log,
            FlashBar(console, f"flashing {b.id}") as flash_bar,
            connect(target, image=image, devices=devices, flash_progress=flash_bar) as devs,
        ):
            dev = devs[0]
            info = dev.info
            reference = info.reference_variant
            report = RunReport(
                net,
                RunInfo(
                    net.name,
                    b.id,
                    reference,
                    info.backend,
                    dev.counts,
                    device=_hello_dict(info, target.inject_fault, layer_names),
                    inputs_sha256=digest,
                    inputs=made_from,
                ),
                log=log,
                vectors_requested=len(x),
            )
            report.context = collect_context(target, image, dump=mode.value, started=started_at)
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
                        variant=reference,
                        dump=mode,
                        start=start,
                        on_vector=lambda _i: progress.advance(task),
                    )
            finally:
                # Whatever was judged before a failure still makes it into every report,
                # marked incomplete when the run was cut short.
                if accuracy is not None:
                    accuracy.finish(report)
                finish_context(report.context, started, [d.session.link_stats() for d in devs])
                if gate is not None and baseline_path is not None:
                    report.context["baseline"] = baseline_entry(
                        report, gate, baseline_path, tolerance
                    )
                write_reports(report, sinks)
                for d in devs:
                    print_link_stats(console, d.session, target.link_faults)
                if report.accuracy is not None:
                    print_accuracy(console, report)
        raise_unless_passed(
            report,
            mismatch_hint=f"per-layer details: {html_path or json_path or log_path}",
            incomplete_hint=_resume_hint(log_path),
        )
        if gate is not None or save_baseline_path:
            _budget(report, gate, tolerance, save_baseline_path)


def _budget(report, gate, tolerance: float, save_to: Path | None) -> None:
    """Write this run's counts, then gate them against the stored baseline."""
    from hil.report.baseline_table import comparison_table
    from hil.validate.baseline import baseline_from_report, compare_counts, save_baseline

    now = baseline_from_report(report)
    if save_to:
        save_baseline(now, save_to)
        console.print(f"baseline written to {save_to}", markup=False)
    if gate is not None:
        comparison = compare_counts(gate, now, tolerance)
        console.print(comparison_table(comparison))
        if gate.model_hash != now.model_hash:
            console.print(
                f"[yellow]note:[/] the baseline was recorded with model hash "
                f"{gate.model_hash}, this run has {now.model_hash}"
            )
        comparison.check()


def _check_devices(target, devices: int) -> None:
    """Several devices at once: emulators, or places from --reserve."""
    from hil.errors import ConfigError

    farm = target.farm
    if devices == 1:
        return
    if farm is not None and not farm.reserves:
        raise ConfigError(
            f"--devices {devices} and {farm.source}: a place holds one board",
            hint=f'reserve {devices} places by their tags instead: --reserve "board=ID" '
            f"--devices {devices}",
        )
    if farm is None and (not target.emulated or target.port or target.attach):
        raise ConfigError(
            f"--devices {devices}: several devices at once work with emulated boards or "
            "labgrid places only",
            hint="use --devices 1 (the default) for a board on a port or a probe, or "
            '--reserve "board=ID" for several boards of a labgrid farm',
        )


def _check_dataset_alone(dataset: str | None) -> None:
    """--dataset brings its own vectors: the options that shape generated ones are refused."""
    from hil.cli.setting_sources import on_command_line
    from hil.errors import ConfigError

    for name, option in (("vectors", "--vectors/-n"), ("seed", "--seed")):
        if dataset is not None and on_command_line(name):
            raise ConfigError(
                f"{option} and --dataset both given: the vectors come from data set {dataset}",
                hint=f"drop {option}, or drop --dataset to run generated vectors",
            )


def _resume_hint(log_path: Path) -> str:
    return f"every verdict so far is in {log_path}; add --resume (same options) to run the rest"


def _hello_dict(info, fault: tuple[int, str] | None, layer_names: list[str]) -> dict:
    d = dict(vars(info))
    d["model_hash"] = info.model_hash.hex()
    d["export_hash"] = info.export_hash.hex()
    if fault is not None:  # the report's JSON and log say the image was a faulted variant
        d["inject_fault"] = {"layer": fault[0], "name": layer_names[fault[0]], "kind": fault[1]}
    return d


def _check_float(target, float_model: Path | None, labelled: bool) -> None:
    """--float belongs to s8 models (refused on q7 ones, not ignored) and needs labels."""
    from hil.errors import ConfigError

    if float_model is not None and target.family != "s8":
        raise ConfigError(
            f"--float is for s8 (int8) models; {target.network.name} is q7",
            hint="leave out --float (a q7 model names its float model in its [quantisation] table)",
        )
    if float_model is not None and not labelled:
        raise ConfigError(
            "--float needs --labels (or --dataset)", hint="the float model is run for accuracy"
        )
