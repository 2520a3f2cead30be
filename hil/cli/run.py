"""`hil run`: the main job. Build, start, stream vectors, judge every layer, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hil.cli.console import console
from hil.cli.options import (DEFAULT_BOARD, DEFAULT_MODEL, BoardOpt, BuildDirOpt, CmsisNnOpt,
                             ModelOpt, PortOpt, TimeoutOpt)
from hil.errors import MismatchError


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_cmd(
        board: BoardOpt = DEFAULT_BOARD,
        model: ModelOpt = DEFAULT_MODEL,
        vectors: Annotated[int, typer.Option(
            "--vectors", "-n", help="How many seeded random input vectors to run.")] = 4,
        inputs: Annotated[Optional[Path], typer.Option(
            "--inputs", help="int8 .npy with shape (N, *input_shape) or input_shape; "
                             "replaces --vectors.")] = None,
        seed: Annotated[int, typer.Option(help="Seed of the generated vectors.")] = 0,
        dump: Annotated[Optional[str], typer.Option(
            help="Layer outputs on the wire: all (full tensors), mismatch (CRC-32 digests, "
                 "full tensors re-fetched for a mismatching vector), none (digests only) "
                 "[default: all on emulators, mismatch on real boards].")] = None,
        json_path: Annotated[Optional[Path], typer.Option(
            "--json", help="Write the per-layer report as JSON.")] = None,
        junit_path: Annotated[Optional[Path], typer.Option(
            "--junit", help="Write a JUnit XML report (one test case per layer).")] = None,
        log_path: Annotated[Optional[Path], typer.Option(
            "--log", help="JSON Lines log of every verdict as it arrives "
                          "[default: <build-dir>/results/<board>-<model>.jsonl].")] = None,
        cmsis_nn: CmsisNnOpt = None,
        build_dir: BuildDirOpt = None,
        port: PortOpt = None,
        timeout: TimeoutOpt = 10.0,
    ) -> None:
        """Run MODEL on BOARD and check every layer of every vector bit-exactly."""
        from hil.boards import load_board
        from hil.check import DUMP_CHOICES, check_vectors
        from hil.deploy import EMULATED_KINDS, default_build_root, open_device, prepare_image
        from hil.errors import ConfigError
        from hil.inputs import generated_inputs, load_inputs
        from hil.model.hashing import model_hash
        from hil.model.io import load_model
        from hil.report import RunInfo, RunReport

        b = load_board(board)
        net = load_model(model)
        if dump is None:
            dump = "all" if b.kind in EMULATED_KINDS else "mismatch"
        if dump not in DUMP_CHOICES:
            raise ConfigError(f"unknown --dump {dump!r}", hint=f"use one of {', '.join(DUMP_CHOICES)}")
        x = load_inputs(inputs, net) if inputs is not None else generated_inputs(net, vectors, seed)
        root = build_dir or default_build_root()

        with console.status(f"building {net.name} for {b.id}") as status:
            image = prepare_image(b, net, build_root=root, cmsis_nn=cmsis_nn,
                                  say=lambda msg: status.update(msg))
        log_path = log_path or root / "results" / f"{b.id}-{net.name}.jsonl"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log, \
                open_device(b, image, log_dir=root / "logs", port=port, timeout=timeout) as dev:
            info = dev.session.check_image(model_hash(net), b.id, model=model, variant=b.variant)
            report = RunReport(net, RunInfo(net.name, b.id, info.variant, info.backend,
                                            dev.counts, device=_hello_dict(info)), log=log)
            progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                transient=True)
            try:
                with progress:
                    task = progress.add_task(f"{net.name} on {b.id}", total=len(x))
                    check_vectors(dev.session, net, x, report, variant=info.variant, dump=dump,
                                  on_vector=lambda _i: progress.advance(task))
            finally:
                # Whatever was judged before a failure still makes it into the reports.
                if report.vectors_done:
                    report.render(console)
                    if json_path:
                        report.write_json(json_path)
                    if junit_path:
                        report.write_junit(junit_path)
        if not report.passed:
            bad = report.first_bad_layer()
            raise MismatchError(
                f"layer {bad.index} {bad.name} ({bad.function}) differs from the reference",
                hint=f"per-layer details: {json_path or log_path}")


def _hello_dict(info) -> dict:
    d = dict(vars(info))
    d["model_hash"] = info.model_hash.hex()
    return d
