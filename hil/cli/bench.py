"""``hil bench``: timing of the host reference and of validation on a device, and
per-layer counts of the portable kernels against the genuine CMSIS-NN.

hil.bench measures and returns data; the tables are drawn here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer
from rich.console import Console
from rich.markup import escape
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
from hil.cli.option_groups import DEVICE, ROUNDING, TARGET, Options, with_options
from hil.cli.options import DEFAULT_BOARD, BoardOpt, BuildDirOpt, ModelOpt
from hil.errors import ConfigError
from hil.reference.network import DEFAULT_CHUNK
from hil.text import plural

if TYPE_CHECKING:
    from hil.bench.device import Baseline, LinkRow
    from hil.bench.kernels import FunctionCounts, KernelBench, LayerCounts, ModelCounts
    from hil.config.boards import Board
    from hil.device.target import Target
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
    variant: Annotated[
        Optional[str],
        typer.Option(
            help="Reference variant: for a q7 model its kernel path, dsp or plain [default: "
            "dsp]; for an s8 model its requantisation rounding, double or single [default: "
            "double]."
        ),
    ] = None,
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
    """Median time per layer and per inference of the host numpy reference (q7 or s8).

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
@with_options(TARGET, ROUNDING, DEVICE)
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
    inputs: Annotated[
        Optional[Path],
        typer.Option(
            "--inputs",
            help="Measure these inputs (.npy, int8 HWC or float, as for `hil run`) instead of "
            "seeded random vectors.",
        ),
    ] = None,
    dataset: Annotated[
        Optional[str],
        typer.Option(
            "--dataset", help="Measure the inputs of a data set shipped with hil (e.g. mnist-test)."
        ),
    ] = None,
    json_path: Annotated[
        Optional[Path], typer.Option("--json", help="Write the measurements as JSON.")
    ] = None,
) -> None:
    """Validated vectors per second at each baud rate, full dumps vs digests, against the ideal."""
    from hil.bench.device import DEFAULT_BAUDS, run_link_bench
    from hil.cli.option_checks import at_least
    from hil.outputs import write_text
    from hil.validate.accuracy import load_run_data

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
    target = opts.resolve({"--json": json_path})
    target = replace(target, logs=target.log_dir / "bench")
    data = load_run_data(target.network, inputs=inputs, labels=None, dataset=dataset)
    if data is not None and len(data.x) < vectors:
        given = "--dataset" if dataset is not None else "--inputs"
        raise ConfigError(
            f"{given} has {plural(len(data.x), 'input')}, --vectors asks for {vectors}",
            hint=f"use --vectors {len(data.x)} or fewer",
        )
    with console.status("benchmarking") as status:
        base, rows = run_link_bench(
            target,
            bauds=tuple(baud or DEFAULT_BAUDS),
            vectors=vectors,
            full_vectors=full_vectors,
            inputs=None if data is None else data.x,
            progress=status.update,
        )
    render_link_bench(target.board, target.network, base, rows, console)
    if json_path is not None:
        doc = {
            "board": target.board.id,
            "model": target.network.name,
            "inputs": "random" if data is None else data.made_from,
            "baseline": base.to_dict(),
            "rows": [r.to_dict(base) for r in rows],
        }
        write_text(json_path, json.dumps(doc, indent=2, sort_keys=True) + "\n", "--json")
        console.print(f"measurements written to {json_path}", markup=False, highlight=False)


@bench_app.command("devices")
@with_options(TARGET, ROUNDING, DEVICE)
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


@bench_app.command("kernels")
@with_options(DEVICE)
def kernels(
    opts: Options,
    board: BoardOpt = DEFAULT_BOARD,
    model: Annotated[
        Optional[List[str]],
        typer.Option(
            "--model",
            "-m",
            envvar="HIL_MODEL",
            help="Built-in model or path of a .toml model file (repeatable) "
            "[default: cifar10, lenet5, lenet5-mnist].",
        ),
    ] = None,
    cmsis_nn: Annotated[
        Optional[Path],
        typer.Option(
            "--cmsis-nn",
            envvar="HIL_CMSIS_NN",
            help="Run every model again against this genuine CMSIS-NN and compare. For q7 "
            "models: the root of a CMSIS_5 checkout up to tag 5.9.0, or of a standalone "
            "CMSIS-NN checkout at commit cc3e92d (September 2022) or older. For s8 (int8) "
            "models: a standalone CMSIS-NN checkout, v4.0.0 or later (measured with 7.0 and "
            "later). One path fits one family: bench q7 and s8 models apart to compare both.",
        ),
    ] = None,
    build_dir: BuildDirOpt = None,
    vectors: Annotated[
        int, typer.Option("--vectors", "-n", help="Seeded random vectors per model and library.")
    ] = 2,
    json_path: Annotated[
        Optional[Path], typer.Option("--json", help="Write the counts as JSON.")
    ] = None,
) -> None:
    """Median count per layer and per CMSIS-NN function, portable kernels against --cmsis-nn.

    q7 and s8 (int8) models alike, each built as its own image.

    Every layer is judged bit-exactly as in `hil run`; a mismatch fails the bench.
    """
    from hil.bench.kernels import DEFAULT_MODELS, bench_kernels
    from hil.cli.option_checks import at_least
    from hil.model.io import load_any_model
    from hil.outputs import write_text

    at_least("--vectors", vectors)
    models = list(model or DEFAULT_MODELS)
    twice = next((m for i, m in enumerate(models) if m in models[:i]), None)
    if twice is not None:
        raise ConfigError(
            f"--model {twice} given twice: its layers would count twice in the sums",
            hint=f"give --model {twice} once",
        )
    # --cmsis-nn is checked below against every model's family, not the first's alone.
    values = {**opts.values, "board": board, "cmsis_nn": None, "build_dir": build_dir}
    first = Options(("target", "device"), {**values, "model": models[0], "export": None})
    target = first.resolve({"--json": json_path})
    target = replace(target, logs=target.log_dir / "bench")
    # Every model is loaded (and so checked) before the first build.
    targets = [target] + [replace(target, network=load_any_model(m), model=m) for m in models[1:]]
    check_library_fits(cmsis_nn, targets)
    targets = [replace(t, cmsis_nn=cmsis_nn) for t in targets]
    with console.status("benchmarking kernels") as status:
        result = bench_kernels(targets, vectors=vectors, progress=status.update)
    render_kernel_bench(result, console)
    if json_path is not None:
        write_text(
            json_path, json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n", "--json"
        )
        console.print(f"counts written to {json_path}", markup=False, highlight=False)


def _variant_words(result: BenchResult | BatchBenchResult) -> str:
    """``dsp`` for q7 (as before s8 existed); ``s8, double rounding`` for s8."""
    return f"s8, {result.variant} rounding" if result.family == "s8" else result.variant


def check_library_fits(path: Path | None, targets: list[Target]) -> None:
    """A --cmsis-nn that does not fit every model's kernel family is refused before any
    build: q7 needs the legacy API (up to CMSIS_5 5.9.0), s8 CMSIS-NN 4.0 or later."""
    from hil.cli.option_checks import check_cmsis_nn

    if path is None:
        return
    for t in targets:
        family = t.family
        try:
            check_cmsis_nn(path, family)
        except ConfigError:
            other = "q7" if family == "s8" else "s8"
            try:
                check_cmsis_nn(path, other)
            except ConfigError:
                pass  # no usable checkout for either family: the family's own words say why
            else:
                article = "an" if family == "s8" else "a"
                raise ConfigError(
                    f"--cmsis-nn {path} is a CMSIS-NN for {other} models, and --model "
                    f"{t.model} is {article} {family} model",
                    hint="q7 models need a CMSIS_5 checkout up to tag 5.9.0, s8 models a "
                    "CMSIS-NN 4.0 or later: bench each family with its own --cmsis-nn",
                ) from None
            raise


def reference_table(result: BenchResult) -> Table:
    """Per-layer medians with each layer's share, then the whole inference."""
    table = Table(
        title=f"host reference: {result.model} ({_variant_words(result)}, {result.repeat} "
        "runs, median)"
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
        f"host reference, batched: {result.model} ({_variant_words(result)}, "
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
    "B/input byte",
    "input",
    "input raw",
    "input coded/raw",
    "outputs",
    "results",
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
            f"{r.wire.total / base.input_bytes:.3f}",
            f"{r.category_bytes('input'):,.0f}",
            f"{r.wire.input_raw:,.0f}",
            f"{r.wire.input_ratio:.2f}",
            *(f"{r.category_bytes(c):,.0f}" for c in CATEGORIES if c != "input"),
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


def _ratio_cell(row: LayerCounts | FunctionCounts) -> str:
    """portable / genuine to two places, coloured when the portable kernel takes more."""
    if row.ratio is None:
        return ""
    text = f"{row.ratio:.2f}"
    if row.above and text == "1.00":
        text = f"{row.ratio:.3f}"  # a red 1.00 would read as "equal"
    return f"[red]{text}[/]" if row.above else text


def _count_cells(row: LayerCounts | FunctionCounts, genuine: bool) -> list[str]:
    cells = [f"{row.portable:,}"]
    if genuine:
        cells += ["" if row.genuine is None else f"{row.genuine:,}", _ratio_cell(row)]
    return cells


def _count_columns(table: Table, genuine: bool) -> None:
    table.add_column("portable", justify="right")
    if genuine:
        table.add_column("genuine", justify="right")
        table.add_column("portable/genuine", justify="right")


def _unit_words(result: KernelBench) -> str:
    return f"{result.unit} ({result.source})"


def _titled(title: str) -> Table:
    """A table at least as wide as its title, which would otherwise wrap over a narrow one."""
    return Table(title=escape(title), min_width=len(title))


def model_kernel_table(result: KernelBench, model: ModelCounts) -> Table:
    """One row per layer of one model, then its total."""
    genuine = result.genuine_library is not None
    table = _titled(
        f"{model.model} on {result.board}: {_unit_words(result)}, median of "
        f"{plural(result.vectors, 'vector')}"
    )
    table.add_column("#", justify="right")
    table.add_column("layer", no_wrap=True)
    table.add_column("function", no_wrap=True)
    _count_columns(table, genuine)
    for layer in model.layers:
        table.add_row(
            str(layer.index),
            escape(layer.name),
            layer.function,
            *_count_cells(layer, genuine),
        )
    table.add_section()
    table.add_row("", "total", "", *_count_cells(model.total, genuine))
    return table


def function_kernel_table(result: KernelBench) -> Table:
    """One row per CMSIS-NN function, summed over every model's layers that call it."""
    genuine = result.genuine_library is not None
    names = ", ".join(m.model for m in result.models)
    table = _titled(f"per function ({names}): {_unit_words(result)}")
    table.add_column("function", no_wrap=True)
    table.add_column("layers", justify="right")
    _count_columns(table, genuine)
    for function in result.functions():
        table.add_row(function.function, str(function.layers), *_count_cells(function, genuine))
    table.add_section()
    total = result.total
    table.add_row("total", str(total.layers), *_count_cells(total, genuine))
    return table


def render_kernel_bench(result: KernelBench, out: Console) -> None:
    """A table per model and one per function, then how many layers the portable
    kernels take more on (or how to compare with the genuine library)."""
    if result.genuine_library is not None:
        out.print(
            f"portable kernels against the genuine CMSIS-NN at {result.genuine_library}",
            markup=False,
            highlight=False,
        )
    for model in result.models:
        out.print(model_kernel_table(result, model))
    out.print(function_kernel_table(result))
    if result.genuine_library is not None:
        out.print(result.above_text(), markup=False, highlight=False)
    else:
        out.print(
            "portable kernels only: add --cmsis-nn PATH to compare with the genuine library",
            markup=False,
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
