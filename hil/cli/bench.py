"""``hil bench``: timing of the host reference."""

from __future__ import annotations

from typing import Annotated

import typer

from hil.bench import DEFAULT_REPEAT, bench_reference, render_bench
from hil.cli.console import console

bench_app = typer.Typer(help="Benchmarks.", no_args_is_help=True)


@bench_app.command("reference")
def reference(
    model: Annotated[str, typer.Option(help="Built-in example network.")] = "cifar10",
    repeat: Annotated[int, typer.Option(help="Timed inferences (after warm-ups).")]
    = DEFAULT_REPEAT,
    variant: Annotated[str, typer.Option(help="Reference variant: dsp or plain.")] = "dsp",
) -> None:
    """Median time per layer and per inference of the host numpy reference."""
    render_bench(bench_reference(model, repeat, variant), console)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
