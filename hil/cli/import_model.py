"""`hil import`: quantise a trained ONNX model into a q7 model file, with its report.

Prints the layer -> function -> why table, each layer's formats and shifts,
the semantics that differ from ONNX, and the per-layer diagnostics on the
calibration data (and on --validate data, with top-1 accuracy when --labels
are given).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from hil.cli.console import console
from hil.errors import ConfigError


def _load_npy(path: Path, option: str) -> np.ndarray:
    from hil.model.npy_file import load_npy

    return load_npy(path, option, "a float32 array (labels: integer class ids)")


def _overrides(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        layer, sep, function = value.partition("=")
        if not sep or not layer or not function:
            raise ConfigError(
                f"--kernel {value!r} is not LAYER=FUNCTION",
                hint="e.g. --kernel conv1=arm_convolve_HWC_q7_basic",
            )
        out[layer.strip()] = function.strip()
    return out


def _prefer(values: list[str]) -> tuple[str, ...]:
    return tuple(t.strip() for v in values for t in v.split(",") if t.strip())


def _fmt(frac: int | None) -> str:
    return "" if frac is None else f"Q{7 - frac}.{frac}"


def _print_layers(result) -> None:
    table = Table(title=f"model {result.network.name}: layer -> function -> why")
    for col in ("layer", "ONNX", "function", "why", "in", "weights", "bias", "out", "shifts"):
        table.add_column(col, overflow="fold")
    for r in result.layers:
        shifts = "" if r.out_shift is None else f"bias {r.bias_shift}, out {r.out_shift}"
        table.add_row(
            r.layer, r.onnx_op, r.function, r.why, _fmt(r.fi), _fmt(r.fw), _fmt(r.fb),
            _fmt(r.fo), shifts,
        )  # fmt: skip
    console.print(table)


def _db(v: float) -> str:
    return "exact" if math.isinf(v) else f"{v:.1f}"


def _print_diagnostics(diag, title: str) -> None:
    table = Table(title=f"{title} ({diag.inputs} inputs): dequantised q7 reference vs float")
    for col in ("layer", "function", "cosine", "RMSE", "SNR dB", "max |err|", "saturated", ""):
        table.add_column(col, justify="left" if col in ("layer", "function", "") else "right")
    rows = [("input", "", diag.input_metrics, "")]
    rows += [
        (d.layer, d.function, d.metrics, "<- largest SNR drop" if i == diag.worst else "")
        for i, d in enumerate(diag.layers)
    ]
    for layer, function, m, mark in rows:
        table.add_row(
            layer, function, f"{m.cosine:.4f}", f"{m.rmse:.4g}", _db(m.snr_db),
            f"{m.max_abs_error:.4g}", f"{100 * m.saturated_share:.1f}%", mark,
        )  # fmt: skip
    console.print(table)
    if diag.input_saturated:
        console.print(f"{diag.input_saturated} input value(s) saturated when quantised")
    agree = float(np.mean(diag.q7_top1 == diag.float_top1))
    console.print(f"top-1 agreement q7 reference vs float: {100 * agree:.1f}%")


def import_model(
    model: Annotated[
        Path, typer.Argument(help="The trained float model (.onnx) or a full-int8 .tflite.")
    ],
    out: Annotated[Path, typer.Option(help="The model file to write: DIR/NAME.toml (+ .npz).")],
    calibration: Annotated[
        Path | None,
        typer.Option(
            help="float32 .npy (N, *input shape) in the ONNX layout, for the formats (ONNX only)."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Model name; default: the --out stem.")] = None,
    method: Annotated[
        str | None,
        typer.Option(help="Activation calibration: minmax (default), percentile or kl."),
    ] = None,
    prefer: Annotated[
        list[str],
        typer.Option(help="Prefer these kernels where legal: basic, fast, rgb, opt, nonsquare."),
    ] = [],  # noqa: B006 (typer reads the default)
    kernel: Annotated[
        list[str], typer.Option(help="Force a layer's function: LAYER=FUNCTION (repeatable).")
    ] = [],  # noqa: B006
    validate: Annotated[
        Path | None, typer.Option(help="float32 .npy of held-out inputs to report on.")
    ] = None,
    labels: Annotated[
        Path | None, typer.Option(help="int class ids for --validate: adds top-1 accuracy.")
    ] = None,
    float_model: Annotated[
        Path | None,
        typer.Option(
            "--float",
            help="The float model (.tflite or .onnx) a .tflite came from: adds its accuracy.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing model.")] = False,
) -> None:
    """Import a model: quantise a trained ONNX model to q7, or read a full-int8 TFLite
    model as s8 (TOML + npz)."""
    from hil.outputs import check_output_file

    if out.suffix != ".toml":
        raise ConfigError(f"--out {out} must end in .toml", hint=f"use {out.with_suffix('.toml')}")
    if labels is not None and validate is None:
        raise ConfigError("--labels needs --validate", hint="give the inputs the labels belong to")
    for path in (out, out.with_suffix(".npz")):
        check_output_file(path, "--out")
        if path.exists() and not force:
            raise ConfigError(f"{path} already exists", hint="pass --force to overwrite it")
    if model.suffix == ".tflite":
        from hil.cli.import_tflite import import_tflite_cmd

        onnx_only = {
            "--calibration": calibration is not None,
            "--method": method is not None,
            "--prefer": bool(prefer),
            "--kernel": bool(kernel),
        }
        for option, given in onnx_only.items():
            if given:
                raise ConfigError(
                    f"{option} is for ONNX models; {model.name} is already quantised to int8",
                    hint=f"leave out {option}",
                )
        import_tflite_cmd(model, out, name or out.stem, validate, labels, float_model)
        return
    if float_model is not None:
        raise ConfigError(
            "--float is for .tflite models; an ONNX model is the float model itself",
            hint="leave out --float",
        )
    if calibration is None:
        raise ConfigError(
            "an ONNX model needs --calibration",
            hint="give float32 inputs (N, *input shape) that represent the data set",
        )
    from hil.model.importer import import_onnx
    from hil.model.io import save_model

    cal = _load_npy(calibration, "--calibration")
    held_out = None
    if validate is not None:
        held_out = (
            _load_npy(validate, "--validate"),
            _load_npy(labels, "--labels") if labels is not None else None,
        )
    result = import_onnx(
        model,
        cal,
        name=name or out.stem,
        method=method or "minmax",
        prefer=_prefer(prefer),
        overrides=_overrides(kernel),
        validate=held_out,
    )
    _print_layers(result)
    if result.notes:
        console.print("differences from the float model:")
        for note in result.notes:
            console.print(f"  - {note}", markup=False)
    _print_diagnostics(result.calibration, "calibration data")
    if result.validation is not None:
        _print_diagnostics(result.validation, "validation data")
        if result.labels is not None:
            v = result.validation
            f_acc = 100 * float(np.mean(v.float_top1 == result.labels))
            q_acc = 100 * float(np.mean(v.q7_top1 == result.labels))
            console.print(
                f"accuracy: float {f_acc:.1f}%, q7 reference {q_acc:.1f}% ({v.inputs} inputs)"
            )
            console.print(
                "top-1 is the argmax of the last layer's output, ties to the lowest index"
            )
    toml, npz = save_model(result.network, out)
    console.print(f"wrote {toml} and {npz}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("import")(import_model)
