"""`hil model`: inspect a model and export the built-in examples as templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from hil.cli.console import console

MODEL_HELP = "A built-in model (cifar10, lenet5, lenet5-mnist) or the path of a .toml model file."


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def _params(layer) -> str:
    return ", ".join(f"{n}={layer.params[n]}" for n in layer.spec.scalars)


def _table(title: str, columns: tuple[tuple[str, str], ...]) -> Table:
    table = Table(title=title)
    for col, justify in columns:
        table.add_column(col, justify=justify, no_wrap=True)
    table.add_column("params", overflow="fold")
    return table


def _model_spec(positional: str | None, option: str | None) -> str:
    """MODEL, given as the argument or as --model (the option every other command takes)."""
    from hil.errors import ConfigError

    if positional is not None and option is not None:
        raise ConfigError(
            f"model given twice: {positional} and --model {option}",
            hint="give it once: hil model info MODEL or hil model info --model MODEL",
        )
    if positional is None and option is None:
        raise ConfigError(
            "no model given", hint="hil model info MODEL or hil model info --model MODEL"
        )
    return positional if positional is not None else option


def info(
    model: Annotated[Optional[str], typer.Argument(help=MODEL_HELP, show_default=False)] = None,
    model_option: Annotated[
        Optional[str],
        typer.Option("--model", "-m", help="The same as MODEL.", show_default=False),
    ] = None,
) -> None:
    """Layers, output shapes, MACs, parameters and the firmware memory plan (q7 and s8)."""
    from hil.model.hashing import model_hash
    from hil.model.io import load_any_model

    net = load_any_model(_model_spec(model, model_option))
    if net.family == "s8":
        _s8_info(net)
    else:
        _q7_info(net)
    console.print(f"model hash {model_hash(net).hex()}")


def _q7_info(net) -> None:
    from hil.firmware.plan import plan_memory
    from hil.model.validate import infer_shapes

    shapes = infer_shapes(net)
    plan = plan_memory(net)
    table = _table(f"model {net.name}: input {_shape(net.input_shape)}", _Q7_COLUMNS)
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


_Q7_COLUMNS = (
    ("#", "right"),
    ("layer", "left"),
    ("function", "left"),
    ("output", "left"),
    ("MACs", "right"),
    ("in@", "right"),
    ("out@", "right"),
)
# s8 adds each output tensor's quantisation and the layer's share of the kernels' ctx.buf.
_S8_COLUMNS = (
    *_Q7_COLUMNS,
    ("ctx B", "right"),
    ("out scale", "right"),
    ("out zp", "right"),
)


def _quant(q) -> str:
    return f"scale {q.scale:.6g}, zero point {q.zero_point}"


def _s8_info(net) -> None:
    """An s8 network as its firmware runs it: the export's scratch plan (hil.export.s8_plan),
    which the image's glue allocates as is."""
    from hil.export.s8_module import weight_bytes
    from hil.export.s8_plan import plan_s8
    from hil.reference.s8 import FUNCTIONS

    plan = plan_s8(net)
    title = f"model {net.name} (s8): input {_shape(net.input_shape)}, {_quant(net.input_quant)}"
    table = _table(title, _S8_COLUMNS)
    for i, (layer, slot) in enumerate(zip(net.layers, plan.layers)):
        scalars = FUNCTIONS[layer.function].scalars
        table.add_row(
            str(i),
            layer.name,
            layer.function,
            _shape(layer.output_shape),
            f"{layer.macs:,}",
            str(slot.in_offset),
            str(slot.out_offset),
            f"{slot.ctx_size:,}",
            f"{layer.output_quant.scale:.6g}",
            str(layer.output_quant.zero_point),
            ", ".join(f"{n}={layer.params[n]}" for n in scalars),
        )
    console.print(table)
    if net.description:
        console.print(net.description, markup=False)  # the user's text, as written
    console.print(
        f"layers {len(net.layers)}   MACs {sum(l.macs for l in net.layers):,}   "
        f"weights, biases, multipliers, shifts {weight_bytes(net):,} B"
    )
    (a, b), (size_a, size_b) = plan.buffer_offsets, plan.buffer_sizes
    console.print(
        f"scratch {plan.scratch_size:,} B (buffer A {size_a:,} B at {a}, buffer B "
        f"{size_b:,} B at {b}, kernels' ctx.buf {plan.kernel_size:,} B at "
        f"{plan.kernel_offset}: the largest layer's over plain C, DSP and Helium)"
    )


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
