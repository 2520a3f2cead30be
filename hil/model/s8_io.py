"""s8 model files: TOML (the calls and their parameters) plus an .npz (the arrays).

A model ``cnn`` written by ``hil import cnn.tflite`` is ``cnn.toml`` and
``cnn.npz``::

    format = 1
    family = "s8"                  # the kernel family; q7 files have none
    name = "cnn"
    description = "..."
    input_shape = [1, 16, 16, 3]   # NHWC, as the TFLite model's input tensor
    input_scale = 0.0123           # real = scale * (q - zero_point)
    input_zero_point = -3
    float_input = true             # the model quantised float input (QUANTIZE)
    float_output = true            # ... and dequantised its output (DEQUANTIZE)
    source = "cnn.tflite"          # optional: the model it came from
    source_sha256 = "..."

    [[layers]]                     # one CMSIS-NN s8 call each, in order
    name = "conv1"
    function = "arm_convolve_wrapper_s8"
    tensor = "conv1_out"           # the TFLite tensor this layer's output is
    output_shape = [1, 16, 16, 8]
    output_scale = 0.05
    output_zero_point = -128
    input_n = 1                    # every int32 scalar by its name
    ...                            # (hil.reference.s8.FUNCTIONS)

``cnn.npz`` holds ``<layer>.weights`` (int8) and ``<layer>.bias``,
``<layer>.multiplier``, ``<layer>.shift`` (int32) for the layers that take
them, flat, in the C functions' layouts. Loading checks everything
(:func:`validate_s8_network`) and each error names the file, layer and fix.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from hil.errors import ConfigError
from hil.model.io import _read_arrays, _read_toml, arrays_path
from hil.model.s8 import FAMILY, Quant, S8Layer, S8Network
from hil.model.validate import check_name
from hil.reference.s8 import FUNCTIONS

FORMAT_VERSION = 1
_DTYPES = {"weights": np.int8, "bias": np.int32, "multiplier": np.int32, "shift": np.int32}
_LAYER_INFO = ("name", "function", "tensor", "output_shape", "output_scale", "output_zero_point")
_TOP = {
    "format", "family", "name", "description", "input_shape", "input_scale",
    "input_zero_point", "float_input", "float_output", "source", "source_sha256", "layers",
}  # fmt: skip
INT32 = (-(1 << 31), (1 << 31) - 1)


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v)  # shortest repr: reads back to the same double
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return str(int(v))  # type: ignore[call-overload]


def render_s8_toml(network: S8Network, source: dict[str, str] | None = None) -> str:
    lines = [
        "# hil model (s8 family): layers run in order, each is one CMSIS-NN s8 call.",
        "# Arrays: the .npz of the same name beside this file (<layer>.weights int8;",
        "# <layer>.bias, .multiplier, .shift int32; flat, in the C function's layout).",
        f"format = {FORMAT_VERSION}",
        f"family = {_value(FAMILY)}",
        f"name = {_value(network.name)}",
        f"description = {_value(network.description)}",
        f"input_shape = {_value(list(network.input_shape))}",
        f"input_scale = {_value(float(network.input_quant.scale))}",
        f"input_zero_point = {int(network.input_quant.zero_point)}",
        f"float_input = {_value(network.float_input)}",
        f"float_output = {_value(network.float_output)}",
    ]
    for key, value in (source or {}).items():
        lines.append(f"{key} = {_value(value)}")
    for layer in network.layers:
        lines += [
            "",
            "[[layers]]",
            f"name = {_value(layer.name)}",
            f"function = {_value(layer.function)}",
            f"tensor = {_value(layer.tensor)}",
            f"output_shape = {_value(list(layer.output_shape))}",
            f"output_scale = {_value(float(layer.output_quant.scale))}",
            f"output_zero_point = {int(layer.output_quant.zero_point)}",
        ]
        lines += [f"{n} = {int(layer.params[n])}" for n in FUNCTIONS[layer.function].scalars]
    return "\n".join(lines) + "\n"


def save_s8_model(
    network: S8Network, path: str | Path, source: dict[str, str] | None = None
) -> tuple[Path, Path]:
    """Write ``network`` as ``path`` (.toml) and its .npz beside it."""
    validate_s8_network(network)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        f"{layer.name}.{key}": np.ascontiguousarray(a, _DTYPES[key]).ravel()
        for layer in network.layers
        for key, a in layer.arrays.items()
    }
    npz = arrays_path(path)
    path.write_text(render_s8_toml(network, source), encoding="utf-8")
    with npz.open("wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy stubs type **kwds as bool
    return path, npz


# ---------------------------------------------------------------- reading


def _bad(where: str, what: str, hint: str) -> ConfigError:
    return ConfigError(f"{where}: {what}", hint=hint)


def _get(table: dict, key: str, kind: Any, where: str) -> Any:
    if key not in table:
        raise _bad(where, f"missing '{key}'", f"add {key} (see docs/int8.md, model files)")
    value = table[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _bad(where, f"'{key}' has the wrong type", f"give {key} as in docs/int8.md")
    return value


def _layer(path: Path, i: int, t: object, arrays: dict, used: set[str]) -> S8Layer:
    where = f"{path} layer {i}"
    if not isinstance(t, dict):
        raise _bad(where, "is not a table", "write each layer as a [[layers]] table")
    name = _get(t, "name", str, where)
    where = f"{path} layer '{name}'"
    function = _get(t, "function", str, where)
    if function not in FUNCTIONS:
        raise _bad(where, f"unknown s8 function {function}", "use one of " + ", ".join(FUNCTIONS))
    f = FUNCTIONS[function]
    extra = set(t) - set(f.scalars) - set(_LAYER_INFO)
    if extra:
        raise _bad(
            where, f"unknown key {sorted(extra)[0]}", f"{function} takes " + ", ".join(f.scalars)
        )
    params = {}
    for key in f.scalars:
        v = _get(t, key, int, where)
        if not INT32[0] <= v <= INT32[1]:
            raise _bad(where, f"{key} = {v} is outside int32", "give an int32 value")
        params[key] = v
    layer_arrays = {}
    for key in f.arrays:
        full = f"{name}.{key}"
        if full not in arrays:
            raise _bad(where, f"its arrays file has no {full}",
                       f"put {full} in {arrays_path(path).name}")  # fmt: skip
        a = arrays[full]
        if a.dtype != _DTYPES[key]:
            raise _bad(where, f"{full} is {a.dtype}, not {np.dtype(_DTYPES[key])}",
                       "write it with the dtype the C function reads")  # fmt: skip
        layer_arrays[key] = a.ravel()
        used.add(full)
    shape = tuple(_get(t, "output_shape", list, where))
    scale = _get(t, "output_scale", (float, int), where)
    return S8Layer(
        name=name,
        function=function,
        params=params,
        arrays=layer_arrays,
        output_shape=tuple(int(d) for d in shape),
        output_quant=Quant(float(scale), _get(t, "output_zero_point", int, where)),
        tensor=str(t.get("tensor", "")),
    )


def load_s8_model_file(path: str | Path, doc: dict | None = None) -> S8Network:
    """Read and validate an s8 .toml model file and its .npz."""
    path = Path(path)
    doc = _read_toml(path) if doc is None else doc
    where = str(path)
    if doc.get("format") != FORMAT_VERSION:
        raise _bad(where, f"format {doc.get('format')!r} is not {FORMAT_VERSION}",
                   "write the model again with this hil's `hil import`")  # fmt: skip
    unknown = set(doc) - _TOP
    if unknown:
        raise _bad(where, f"unknown key {sorted(unknown)[0]}", "see docs/int8.md, model files")
    arrays = _read_arrays(path, needed=True)
    used: set[str] = set()
    tables = _get(doc, "layers", list, where)
    layers = tuple(_layer(path, i, t, arrays, used) for i, t in enumerate(tables))
    spare = sorted(set(arrays) - used)
    if spare:
        raise _bad(where, f"its arrays file holds {spare[0]}, which no layer reads",
                   "remove it, or fix the layer name")  # fmt: skip
    network = S8Network(
        name=_get(doc, "name", str, where),
        layers=layers,
        input_shape=tuple(int(d) for d in _get(doc, "input_shape", list, where)),
        input_quant=Quant(
            float(_get(doc, "input_scale", (float, int), where)),
            _get(doc, "input_zero_point", int, where),
        ),
        float_input=_get(doc, "float_input", bool, where),
        float_output=_get(doc, "float_output", bool, where),
        description=str(doc.get("description", "")),
    )
    validate_s8_network(network, where)
    return network


# ---------------------------------------------------------------- checking

_RANGES = {
    "input_offset": (-127, 128),
    "output_offset": (-128, 127),
    "activation_min": (-128, 127),
    "activation_max": (-128, 127),
    "filter_offset": (0, 0),  # CMSIS-NN's contract (and TFLite's): symmetric weights
    "shift": (-31, 30),
}
_POSITIVE = (
    "input_n", "input_h", "input_w", "input_c", "filter_h", "filter_w", "output_h",
    "output_w", "output_c", "stride_h", "stride_w", "dilation_h", "dilation_w", "ch_mult",
    "accum_depth", "output_depth", "num_rows", "row_size",
)  # fmt: skip


def _check_layer(layer: S8Layer, where: str) -> None:
    f = FUNCTIONS[layer.function]
    p = layer.params
    for key in f.scalars:
        if key in _POSITIVE and p[key] < 1:
            raise _bad(where, f"{key} = {p[key]} must be at least 1", "fix the layer's shape")
        lo, hi = _RANGES.get(key, INT32)
        if not lo <= p[key] <= hi:
            raise _bad(where, f"{key} = {p[key]} is outside {lo}..{hi}", "fix the parameter")
    if "activation_min" in p and p["activation_min"] > p["activation_max"]:
        raise _bad(where, "activation_min is above activation_max", "fix the activation range")
    if "padding_h" in p and (p["padding_h"] < 0 or p["padding_w"] < 0):
        raise _bad(where, "negative padding", "fix the padding")
    if "ch_mult" in p and p["output_c"] != p["input_c"] * p["ch_mult"]:
        raise _bad(where, "output_c is not input_c * ch_mult", "fix the depthwise shape")
    for key, size in f.array_sizes(p).items():
        if layer.arrays[key].size != size:
            raise _bad(where, f"{key} has {layer.arrays[key].size} values, not {size}",
                       "the array must match the layer's shape")  # fmt: skip
    if "shift" in layer.arrays:
        s = layer.arrays["shift"]
        if s.min() < -31 or s.max() > 30:
            raise _bad(where, "a shift is outside -31..30", "requantise the layer")
    if "multiplier" in layer.arrays and layer.arrays["multiplier"].min() < 0:
        raise _bad(where, "a multiplier is negative", "requantise the layer")
    if math.prod(layer.output_shape) != f.output_size(p):
        raise _bad(where, f"output_shape {list(layer.output_shape)} holds "
                   f"{math.prod(layer.output_shape)} values, the call writes {f.output_size(p)}",
                   "fix output_shape")  # fmt: skip


def validate_s8_network(network: S8Network, source: str = "model") -> None:
    """Check every layer's parameters and that each layer reads what the last wrote."""
    check_name(source, "model name", network.name)
    if not network.layers:
        raise _bad(source, "has no layers", "add at least one [[layers]] table")
    size = math.prod(network.input_shape)
    names: set[str] = set()
    for layer in network.layers:
        where = f"{source} layer '{layer.name}'"
        if layer.name in names:
            raise _bad(where, "the name is used twice", "give every layer its own name")
        names.add(layer.name)
        check_name(source, "layer name", layer.name)
        _check_layer(layer, where)
        want = FUNCTIONS[layer.function].input_size(layer.params)
        if want != size:
            raise _bad(where, f"reads {want} values, the layer before writes {size}",
                       "fix the shapes so that each layer reads what the last wrote")  # fmt: skip
        size = FUNCTIONS[layer.function].output_size(layer.params)
