"""``hil bench``: timing of the host reference and of validation on a device."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from hil.bench.reference import DEFAULT_REPEAT, bench_reference, render_bench
from hil.cli.console import console
from hil.cli.options import BuildDirOpt
from hil.errors import ConfigError
from hil.text import plural

bench_app = typer.Typer(help="Benchmarks.", no_args_is_help=True)


@bench_app.command("reference")
def reference(
    model: Annotated[str, typer.Option(help="Built-in example network.")] = "cifar10",
    repeat: Annotated[
        int, typer.Option(help="Timed inferences (after warm-ups).")
    ] = DEFAULT_REPEAT,
    variant: Annotated[str, typer.Option(help="Reference variant: dsp or plain.")] = "dsp",
) -> None:
    """Median time per layer and per inference of the host numpy reference."""
    render_bench(bench_reference(model, repeat, variant), console)


@bench_app.command("device")
def device(
    board: Annotated[str, typer.Option(help="Board to measure.")] = "qemu-m7",
    model: Annotated[str, typer.Option(help="Model to run.")] = "cifar10",
    baud: Annotated[
        Optional[List[int]],
        typer.Option(
            help="Baud rate to throttle the link to (repeatable) [default: 115200, 921600, "
            "2000000]."
        ),
    ] = None,
    vectors: Annotated[int, typer.Option(help="Vectors per digest-mode measurement.")] = 6,
    full_vectors: Annotated[
        int, typer.Option(help="Vectors per full-dump measurement (slow at 115200 baud).")
    ] = 2,
    build_dir: BuildDirOpt = None,
) -> None:
    """Validated vectors per second at each baud rate, full dumps vs digests, against the ideal."""
    from hil.bench.device import DEFAULT_BAUDS, render_link_bench, run_link_bench
    from hil.cli.build import check_outputs
    from hil.cli.option_checks import at_least
    from hil.config.boards import load_board
    from hil.model.io import load_model

    for rate in baud or ():
        at_least("--baud", rate, example=115200)
    at_least("--vectors", vectors)
    at_least("--full-vectors", full_vectors)
    if full_vectors > vectors:
        raise ConfigError(
            f"--full-vectors {full_vectors} is more than --vectors {vectors}: the "
            "full-dump measurement reuses the digest-mode vectors",
            hint=f"use --full-vectors {vectors} or fewer, or raise --vectors",
        )
    root = check_outputs(build_dir, folders=("logs",))
    b, net = load_board(board), load_model(model)
    with console.status("benchmarking") as status:
        base, rows = run_link_bench(
            b,
            net,
            bauds=tuple(baud or DEFAULT_BAUDS),
            vectors=vectors,
            full_vectors=full_vectors,
            build_root=root,
            progress=status.update,
        )
    render_link_bench(b, net, base, rows, console)


@bench_app.command("devices")
def devices(
    board: Annotated[str, typer.Option(help="Emulated board to run.")] = "qemu-m7",
    model: Annotated[str, typer.Option(help="Model to run.")] = "cifar10",
    count: Annotated[int, typer.Option("--devices", help="Most devices to try.")] = 2,
    vectors: Annotated[int, typer.Option(help="Vectors per measurement.")] = 16,
    build_dir: BuildDirOpt = None,
) -> None:
    """Validated vectors per second with 1..N devices sharing the vectors (digest mode)."""
    from rich.table import Table

    from hil.bench.device import measure_shards
    from hil.cli.build import check_outputs
    from hil.cli.option_checks import at_least
    from hil.config.boards import load_board
    from hil.device.connect import EMULATED_KINDS, prepare_image
    from hil.model.inputs import generated_inputs
    from hil.model.io import load_model

    at_least("--devices", count, example=2)
    at_least("--vectors", vectors)
    root = check_outputs(build_dir, folders=("logs",))
    b, net = load_board(board), load_model(model)
    if b.kind not in EMULATED_KINDS:
        raise ConfigError(
            f"board {b.id} is of kind {b.kind}: bench devices starts emulated boards only",
            hint="pick an emulated board, e.g. --board qemu-m7",
        )
    image = prepare_image(b, net, build_root=root)
    x = generated_inputs(net, vectors, 0)
    table = Table(title=f"{net.name} on {count} x {b.id}, {plural(vectors, 'vector')}")
    for col in ("devices", "vectors/s", "speed-up"):
        table.add_column(col, justify="right")
    first = None
    for n in range(1, count + 1):
        with console.status(f"{n} device(s)"):
            rate = measure_shards(b, image, net, x, n, root / "logs" / "bench")
        first = first or rate
        table.add_row(str(n), f"{rate:.2f}", f"{rate / first:.2f}x")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
