"""``hil bench``: timing of the host reference and of validation on a device.

hil.bench measures and returns data; the tables are drawn here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer
from rich.console import Console
from rich.table import Table

from hil.bench.reference import (
    DEFAULT_BATCH_REPEAT,
    DEFAULT_REPEAT,
    BatchBenchResult,
    BenchResult,
    bench_reference,
    bench_reference_batch,
)
from hil.cli.console import console
from hil.cli.option_groups import DEVICE, TARGET, Options, with_options
from hil.cli.options import ModelOpt
from hil.errors import ConfigError
from hil.reference.network import DEFAULT_CHUNK
from hil.text import plural

if TYPE_CHECKING:
    from hil.bench.device import Baseline, LinkRow
    from hil.config.boards import Board
    from hil.model import Network

bench_app = typer.Typer(help="Benchmarks.", no_args_is_help=True)


@bench_app.command("reference")
def reference(
    model: ModelOpt = "cifar10",
    repeat: Annotated[
        Optional[int],
        typer.Option(
            help=f"Timed inferences (after warm-ups) [default: {DEFAULT_REPEAT}; "
            f"with --batch: {DEFAULT_BATCH_REPEAT} timed batches]."
        ),
    ] = None,
    variant: Annotated[str, typer.Option(help="Reference variant: dsp or plain.")] = "dsp",
    batch: Annotated[
        Optional[int],
        typer.Option(
            help="Instead: images per second through the batched reference, on this "
            "many seeded random images."
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(help="With --batch: images each layer takes at once.")
    ] = DEFAULT_CHUNK,
) -> None:
    """Median time per layer and per inference of the host numpy reference.

    With --batch: images per second through the batched reference instead.
    """
    if batch is None:
        times = DEFAULT_REPEAT if repeat is None else repeat
        render_reference(bench_reference(model, times, variant), console)
        return
    from hil.cli.option_checks import at_least

    at_least("--chunk-size", chunk_size, example=DEFAULT_CHUNK)
    runs = DEFAULT_BATCH_REPEAT if repeat is None else repeat
    result = bench_reference_batch(model, batch, runs, variant, chunk_size)
    render_batch(result, console)


@bench_app.command("device")
@with_options(TARGET, DEVICE)
def device(
    opts: Options,
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
) -> None:
    """Validated vectors per second at each baud rate, full dumps vs digests, against the ideal."""
    from hil.bench.device import DEFAULT_BAUDS, run_link_bench
    from hil.cli.option_checks import at_least

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
    target = opts.resolve()
    target = replace(target, logs=target.log_dir / "bench")
    with console.status("benchmarking") as status:
        base, rows = run_link_bench(
            target,
            bauds=tuple(baud or DEFAULT_BAUDS),
            vectors=vectors,
            full_vectors=full_vectors,
            progress=status.update,
        )
    render_link_bench(target.board, target.network, base, rows, console)


@bench_app.command("devices")
@with_options(TARGET, DEVICE)
def devices(
    opts: Options,
    count: Annotated[int, typer.Option("--devices", help="Most devices to try.")] = 2,
    vectors: Annotated[int, typer.Option(help="Vectors per measurement.")] = 16,
) -> None:
    """Validated vectors per second with 1..N devices sharing the vectors (digest mode)."""
    from hil.bench.device import measure_shards
    from hil.cli.build import build_with_status
    from hil.cli.option_checks import at_least
    from hil.model.inputs import generated_inputs

    at_least("--devices", count, example=2)
    at_least("--vectors", vectors)
    target = opts.resolve()
    target = replace(target, logs=target.log_dir / "bench")
    b, net = target.board, target.network
    if not target.emulated or target.port:
        raise ConfigError(
            f"board {b.id} is of kind {b.kind}: bench devices starts emulated boards only",
            hint="pick an emulated board, e.g. --board qemu-m7",
        )
    image = build_with_status(target)
    x = generated_inputs(net, vectors, 0)
    table = Table(title=f"{net.name} on {count} x {b.id}, {plural(vectors, 'vector')}")
    for col in ("devices", "vectors/s", "speed-up"):
        table.add_column(col, justify="right")
    first = None
    for n in range(1, count + 1):
        with console.status(f"{n} device(s)"):
            rate = measure_shards(target, image, x, n)
        first = first or rate
        table.add_row(str(n), f"{rate:.2f}", f"{rate / first:.2f}x")
    console.print(table)


def reference_table(result: BenchResult) -> Table:
    """Per-layer medians with each layer's share, then the whole inference."""
    table = Table(
        title=f"host reference: {result.model} ({result.variant}, {result.repeat} runs, median)"
    )
    table.add_column("layer", no_wrap=True)
    table.add_column("function", no_wrap=True)
    table.add_column("ms", justify="right")
    table.add_column("share", justify="right")
    medians = [result.layer_median_ms(i) for i in range(len(result.layers))]
    whole = sum(medians) or 1.0
    for (name, function), ms in zip(result.layers, medians):
        table.add_row(name, function, f"{ms:.3f}", f"{100 * ms / whole:.0f}%")
    table.add_section()
    table.add_row("total", "", f"{result.median_ms:.3f}", "")
    return table


def render_reference(result: BenchResult, out: Console) -> None:
    """The table, then the plain line 'median <X> ms per inference'."""
    out.print(reference_table(result))
    out.print(f"median {result.median_ms:.3f} ms per inference", markup=False, highlight=False)


def render_batch(result: BatchBenchResult, out: Console) -> None:
    """What was timed, then the plain line '<N> images per second'."""
    runs = plural(len(result.batch_s), "run")
    out.print(
        f"host reference, batched: {result.model} ({result.variant}, "
        f"{plural(result.images, 'image')} per batch, chunks of {result.chunk_size}, "
        f"{runs}, median)",
        markup=False,
        highlight=False,
    )
    out.print(
        f"median {result.median_s:.3f} s per batch ({1e3 / result.images_per_second:.3f} ms "
        "per image)",
        markup=False,
        highlight=False,
    )
    out.print(f"{result.images_per_second:,.0f} images per second", markup=False, highlight=False)


_LINK_COLUMNS = (
    "baud",
    "dump",
    "vectors/s",
    "s/vector",
    "ideal s/vector",
    "ratio",
    "ratio to emulator floor",
    "wire B/vector",
    "input",
    "outputs",
    "digests",
    "acks",
    "control",
    "framing",
    "s beyond wire + compute",
)


def link_table(board: Board, network: Network, base: Baseline, rows: list[LinkRow]) -> Table:
    """One row per baud rate and dump mode: throughput, the ideal, and bytes by category."""
    from hil.transport.wire_tap import CATEGORIES

    t = Table(
        title=f"validation throughput: {network.name} on {board.id} "
        f"(link throttled to the baud rate, 10 bits per byte)"
    )
    for col in _LINK_COLUMNS:
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(
            f"{r.baud:,}",
            "digest" if r.dump == "mismatch" else r.dump,
            f"{r.per_second:.2f}",
            f"{r.seconds:.3f}",
            f"{r.ideal:.3f}",
            f"{r.ratio:.2f}x",
            f"{r.seconds / r.floor(base):.2f}x",
            f"{r.wire.total:,.0f}",
            *(f"{r.category_bytes(c):,.0f}" for c in CATEGORIES),
            f"{r.beyond_wire_s(base):.3f}",
        )
    return t


def render_link_bench(
    board: Board, network: Network, base: Baseline, rows: list[LinkRow], out: Console
) -> None:
    """The table, then what the emulator's floor and the device's compute are."""
    out.print(link_table(board, network, base, rows))
    out.print(
        f"emulator UART takes in one input in {base.receive_s * 1e3:.0f} ms unthrottled "
        "(the emulator floor: ideal = max(input at baud, this) + compute)"
    )
    out.print(
        f"device compute {base.compute_s * 1e3:.1f} ms per vector (emulator wall time); "
        f"host reference {base.reference_s * 1e3:.2f} ms per vector; "
        f"input {base.input_bytes:,} B"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
