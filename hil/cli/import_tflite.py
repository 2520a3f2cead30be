"""`hil import MODEL.tflite`: the s8 half of `hil import` (hil.cli.import_model).

Prints each layer's call with its output quantisation and whether hil's
reference equals TFLite Micro on it, then the accuracy when --labels are
given, and writes the s8 model file only when every layer was exact.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from rich.table import Table

from hil.cli.console import console
from hil.errors import ConfigError
from hil.text import plural


def _print_layers(result) -> None:
    net = result.network
    table = Table(title=f"model {net.name} (s8): layer -> CMSIS-NN call")
    for col in ("layer", "function", "output", "scale", "zero point", "vs TFLite Micro"):
        table.add_column(col, overflow="fold")
    for layer, check in zip(net.layers, result.checks, strict=True):
        verdict = "exact" if check.mismatches == 0 else f"{check.mismatches:,} values differ"
        table.add_row(
            layer.name, layer.function, "x".join(map(str, layer.output_shape)),
            f"{layer.output_quant.scale:.6g}", str(layer.output_quant.zero_point), verdict,
        )  # fmt: skip
    console.print(table)
    what = "seeded random int8 inputs" if result.random_inputs else "the --validate inputs"
    console.print(
        f"hil's s8 reference vs TFLite Micro: every layer on {plural(result.inputs, 'input')} "
        f"({what})",
        markup=False,
    )


def import_tflite_cmd(
    model: Path,
    out: Path,
    name: str,
    validate: Path | None,
    labels: Path | None,
    float_model: Path | None,
) -> None:
    from hil.cli.import_model import _load_npy
    from hil.model.diagnostics import top1
    from hil.model.s8_io import save_s8_model
    from hil.model.tflite.importer import import_tflite
    from hil.validate.accuracy import TIE_RULE, check_labels

    if float_model is not None and labels is None:
        raise ConfigError(
            "--float needs --validate and --labels", hint="the float model is run for accuracy"
        )
    x = None if validate is None else _load_npy(validate, "--validate")
    result = import_tflite(model, name, x)
    _print_layers(result)
    if result.saturated:
        console.print(f"{result.saturated:,} input value(s) saturated when quantised")
    if not result.exact:
        bad = next(c for c in result.checks if c.mismatches)
        raise ConfigError(
            f"hil's reference differs from TFLite Micro at layer {bad.layer} ({bad.function}): "
            f"{bad.mismatches:,} of {bad.values:,} values; nothing was written",
            hint="report the model to hil's developers (hil import --validate narrows it down)",
        )
    if labels is not None:
        assert x is not None
        y = check_labels(_load_npy(labels, "--labels"), result.inputs, result.network, str(labels))
        line = f"int8 reference {100 * np.mean(top1(result.reference_outputs) == y):.1f}%"
        if float_model is not None:
            from hil.model.tflite.float_model import float_outputs
            from hil.report.accuracy_table import diagnostics_table
            from hil.validate.s8_diagnostics import diagnose

            net = result.network
            # the float model takes the user's floats, or int8 inputs dequantised
            real = (
                x if np.issubdtype(x.dtype, np.floating) else net.input_quant.dequantise(result.x)
            )
            real = real.reshape(result.inputs, *net.input_shape[1:])
            f_acc = 100 * np.mean(top1(float_outputs(float_model, real)) == y)
            line = f"float {f_acc:.1f}%, " + line
            console.print(diagnostics_table(diagnose(net, result.x, real, float_model, "double")))
        console.print(f"accuracy: {line} ({plural(result.inputs, 'input')})", markup=False)
        console.print(TIE_RULE, markup=False)
    source = {
        "source": Path(os.path.relpath(model.resolve(), out.resolve().parent)).as_posix(),
        "source_sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
    }
    toml, npz = save_s8_model(result.network, out, source)
    console.print(f"wrote {toml} and {npz}", markup=False)
