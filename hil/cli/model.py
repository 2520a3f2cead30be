"""`hil model`: inspect a model and export the built-in examples as templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hil.cli.console import console

MODEL_HELP = "A built-in model (cifar10, lenet5, lenet5-mnist) or the path of a .toml model file."


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def _params(layer) -> str:
    return ", ".join(f"{n}={layer.params[n]}" for n in layer.spec.scalars)


def info(model: Annotated[str, typer.Argument(help=MODEL_HELP)]) -> None:
    """Layers, output shapes, MACs, parameters and the firmware memory plan."""
    from hil.firmware.plan import plan_memory
    from hil.model.hashing import model_hash
    from hil.model.io import load_model
    from hil.model.validate import infer_shapes

    net = load_model(model)
    shapes = infer_shapes(net)
    plan = plan_memory(net)
    table = Table(title=f"model {net.name}: input {_shape(net.input_shape)}")
    for col, justify in (
        ("#", "right"),
        ("layer", "left"),
        ("function", "left"),
        ("output", "left"),
        ("MACs", "right"),
        ("in@", "right"),
        ("out@", "right"),
    ):
        table.add_column(col, justify=justify, no_wrap=True)
    table.add_column("params", overflow="fold")
    for i, (layer, shape, slot) in enumerate(zip(net.layers, shapes, plan.layers)):
        table.add_row(
            str(i),
            layer.name,
            layer.function,
            _shape(shape),
            f"{layer.macs:,}",
            str(slot.in_offset),
            str(slot.out_offset),
            _params(layer),
        )
    console.print(table)
    weights = sum(a.size for l in net.layers for a in (l.weights, l.bias) if a is not None)
    if net.description:
        console.print(net.description, markup=False)  # the user's text, as written
    console.print(
        f"layers {len(net.layers)}   MACs {sum(l.macs for l in net.layers):,}   "
        f"weights+biases {weights:,} B"
    )
    console.print(
        f"arena {plan.arena_size:,} B (buffer A {plan.buffer_sizes[0]:,} B at "
        f"{plan.buffer_offsets[0]}, buffer B {plan.buffer_sizes[1]:,} B at "
        f"{plan.buffer_offsets[1]})   scratch {plan.scratch_size:,} q15 "
        f"({2 * plan.scratch_size:,} B)"
    )
    console.print(f"model hash {model_hash(net).hex()}")


def export(
    name: Annotated[str, typer.Argument(help="Built-in example to export (cifar10, lenet5).")],
    directory: Annotated[Path, typer.Argument(help="Directory for <name>.toml and <name>.npz.")],
    seed: Annotated[int, typer.Option(help="Seed of the example's generated weights.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Write a built-in example as .toml + .npz: a template for your own model."""
    from hil.errors import ConfigError
    from hil.model.examples import build_example
    from hil.model.io import save_model
    from hil.outputs import check_output_dir, check_output_file

    if seed < 0:
        raise ConfigError(f"--seed {seed} must be 0 or more", hint="e.g. --seed 1")
    target = directory / f"{name}.toml"
    check_output_dir(directory, "DIRECTORY")
    for path in (target, target.with_suffix(".npz")):
        check_output_file(path, "DIRECTORY")
    net = build_example(name, seed)
    existing = [p for p in (target, target.with_suffix(".npz")) if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{existing[0]} already exists",
            hint="choose another directory or pass --force to overwrite",
        )
    toml, npz = save_model(net, target)
    console.print(f"wrote {toml} and {npz}", markup=False)


def import_cmsis_example(
    snapshot: Annotated[
        Path, typer.Argument(help="The CMSIS-NN CIFAR-10 example snapshot (example.npz).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="The model file to write: DIR/NAME.toml (+ NAME.npz).")
    ],
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Import Arm's CIFAR-10 example (trained weights and shifts) as a model file, with
    its quantised test image as NAME-input.npy for `hil run --inputs`."""
    import numpy as np

    from hil.errors import ConfigError
    from hil.model.cmsis_import import import_cmsis_cifar10_example
    from hil.model.io import save_model
    from hil.outputs import check_output_dir, check_output_file

    if out.suffix != ".toml":
        raise ConfigError(
            f"--out {out} must name a .toml file", hint=f"e.g. --out {out.with_suffix('.toml')}"
        )
    image = out.with_name(f"{out.stem}-input.npy")
    written = (out, out.with_suffix(".npz"), image)
    check_output_dir(out.parent, "--out")
    for path in written:
        check_output_file(path, "--out")
    existing = [p for p in written if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{existing[0]} already exists", hint="choose another --out or pass --force"
        )
    net, x = import_cmsis_cifar10_example(snapshot)
    toml, npz = save_model(net, out)
    np.save(image, x[None])
    console.print(f"wrote {toml}, {npz} and {image} (the example's test image)", markup=False)
    console.print(f"run it: hil run --model {toml} --inputs {image}", markup=False)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Inspect models, export the built-in examples, import Arm's CIFAR-10 example.",
        no_args_is_help=True,
    )
    group.command("info")(info)
    group.command("export")(export)
    group.command("import-cmsis-example")(import_cmsis_example)
    app.add_typer(group, name="model")
