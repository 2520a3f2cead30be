"""Model files: a human-readable TOML description plus an .npz of arrays.

A model ``lenet5`` is two files side by side::

    lenet5.toml
    lenet5.npz

``lenet5.toml``::

    format = 1                     # file format version (this module reads 1)
    name = "lenet5"                # letters, digits, '_' and '-'; default: file stem
    description = "..."            # optional
    input_shape = [28, 28, 1]      # [height, width, channels] (HWC) or [n]

    [metadata]                     # optional, string values only
    source = "..."

    [quantisation]                 # optional; written by `hil import`
    input_frac_bits = 7            # float x -> clip(round_half_away(x * 2**7), -128, 127)
    input_layout = "NCHW"          # the float model's input layout ("NCHW" or "HWC")
    input_float_shape = [1, 28, 28]  # the float model's input shape, no batch axis
    calibration = "minmax"         # "minmax", "percentile" or "kl"
    float_model = "lenet5.onnx"    # optional, relative to this file
    float_model_sha256 = "..."     # optional
    float_output = "probs"         # optional: the float model's final output tensor

    [[layers]]                     # one table per CMSIS-NN call, in order
    name = "conv1"
    function = "arm_convolve_HWC_q7_basic"   # the C function name
    dim_im_in = 28                 # every scalar C parameter by its C name
    ch_im_in = 1                   # (see hil.reference.spec.KERNEL_SPECS):
    ...                            # integers in 0..65535, nothing else
    out_frac_bits = 4              # optional: output Q format (value = q7 / 2**4)
    float_tensor = "relu1_out"     # optional: the float model's matching tensor

``lenet5.npz`` holds, for each layer whose function takes them, the keys
``<layer>.weights`` and ``<layer>.bias``: flat int8 arrays in exactly the
memory layout the C function reads (HWC/OHWI for convolutions, row-major
``[rows][dim_vec]`` for arm_fully_connected_q7, the interleaved layout for
arm_fully_connected_q7_opt). The .npz may be absent when no layer has
weights. Loading validates everything (hil.model.validate) and every error
names the file, the layer and the fix.
"""

from __future__ import annotations

import json
import os
import tomllib
import zipfile
from pathlib import Path
from typing import SupportsInt, cast

import numpy as np

from hil.errors import ConfigError
from hil.model.layer import Layer, Network, Quantisation
from hil.model.s8 import S8Network
from hil.model.validate import check_name, validate_network
from hil.reference.spec import KERNEL_SPECS

FORMAT_VERSION = 1
_LAYER_KEYS = ("name", "function")
_LAYER_NOTES = ("out_frac_bits", "float_tensor")  # describe a layer; not C parameters
_TOP_KEYS = {"format", "name", "description", "input_shape", "metadata", "quantisation", "layers"}
_LAYOUTS = ("NCHW", "HWC")
_CALIBRATIONS = ("minmax", "percentile", "kl")
_QUANT_INTS = ("input_frac_bits",)
_QUANT_STRS = ("input_layout", "calibration")
_QUANT_OPTIONAL = ("float_model", "float_model_sha256", "float_output")


def arrays_path(toml_path: Path) -> Path:
    return Path(toml_path).with_suffix(".npz")


# ---------------------------------------------------------------- writing


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(int(cast(SupportsInt, value)))


def _relative(target: Path, base: Path) -> str:
    """``target`` as a path relative to directory ``base`` (POSIX separators)."""
    try:
        return Path(os.path.relpath(target.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive on Windows: keep it absolute
        return target.resolve().as_posix()


def _render_quantisation(q: Quantisation, base: Path | None) -> list[str]:
    lines = [
        "",
        "[quantisation]",
        f"input_frac_bits = {int(q.input_frac_bits)}",
        f"input_layout = {_toml_value(q.input_layout)}",
        f"input_float_shape = {_toml_value(list(q.input_float_shape))}",
        f"calibration = {_toml_value(q.calibration)}",
    ]
    if q.float_model is not None:
        where = _relative(Path(q.float_model), base) if base is not None else q.float_model
        lines.append(f"float_model = {_toml_value(str(where))}")
    if q.float_model_sha256 is not None:
        lines.append(f"float_model_sha256 = {_toml_value(q.float_model_sha256)}")
    if q.float_output is not None:
        lines.append(f"float_output = {_toml_value(q.float_output)}")
    return lines


def render_model_toml(network: Network, base: Path | None = None) -> str:
    """The .toml text; ``base`` is the file's directory (float_model is written relative to it)."""
    lines = [
        "# hil model: layers run in order, each is one CMSIS-NN legacy q7 call.",
        "# Weights and biases: the .npz of the same name beside this file",
        "# (keys <layer>.weights and <layer>.bias; flat int8 in the C function's layout).",
        f"format = {FORMAT_VERSION}",
        f"name = {_toml_value(network.name)}",
        f"description = {_toml_value(network.description)}",
        f"input_shape = {_toml_value(list(network.input_shape))}",
    ]
    if network.metadata:
        lines += ["", "[metadata]"]
        lines += [
            f"{json.dumps(k)} = {_toml_value(str(v))}" for k, v in sorted(network.metadata.items())
        ]
    if network.quantisation is not None:
        lines += _render_quantisation(network.quantisation, base)
    for layer in network.layers:
        lines += [
            "",
            "[[layers]]",
            f"name = {_toml_value(layer.name)}",
            f"function = {_toml_value(layer.function)}",
        ]
        lines += [f"{n} = {int(layer.params[n])}" for n in layer.spec.scalars]
        if layer.out_frac_bits is not None:
            lines.append(f"out_frac_bits = {int(layer.out_frac_bits)}")
        if layer.float_tensor is not None:
            lines.append(f"float_tensor = {_toml_value(layer.float_tensor)}")
    return "\n".join(lines) + "\n"


def save_model(network: Network, path: str | Path) -> tuple[Path, Path]:
    """Write ``network`` as ``path`` (.toml) and the .npz beside it."""
    validate_network(network)
    path = Path(path)
    if path.suffix != ".toml":
        raise ConfigError(
            f"model file {path} must end in .toml", hint=f"use {path.with_suffix('.toml')}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for layer in network.layers:
        for role in ("weights", "bias"):
            data = getattr(layer, role)
            if data is not None:
                arrays[f"{layer.name}.{role}"] = np.ascontiguousarray(data, np.int8).ravel()
    npz = arrays_path(path)
    path.write_text(render_model_toml(network, path.parent), encoding="utf-8")
    with npz.open("wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy stubs type **kwds as bool
    return path, npz


# ---------------------------------------------------------------- reading


def _read_toml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"model file {path} does not exist",
            hint="give the path of a .toml model file or a built-in example "
            "name (see `hil model export`)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read model file {path}: {exc}",
            hint="check the file's permissions and that it is UTF-8 text",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: malformed TOML: {exc}",
            hint="fix the syntax at the position shown (a truncated file often ends mid-table)",
        ) from None


def _read_arrays(path: Path, needed: bool) -> dict[str, np.ndarray]:
    npz = arrays_path(path)
    if not npz.exists():
        if needed:
            raise ConfigError(
                f"{path}: its arrays file {npz} is missing",
                hint=f"put the weights and biases in {npz.name} beside "
                f"{path.name} (keys <layer>.weights, <layer>.bias)",
            )
        return {}
    try:
        with np.load(npz, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ConfigError(
            f"{npz}: not a readable .npz: {exc}",
            hint="re-export it with numpy.savez (int8 arrays, no pickles)",
        ) from None


def _require(mapping: dict, key: str, kind: type | tuple, where: str, hint: str):
    if key not in mapping:
        raise ConfigError(f"{where}: '{key}' is missing", hint=hint)
    value = mapping[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"{where}: '{key}' = {value!r} has the wrong type", hint=hint)
    return value


def _parse_layer(path: Path, index: int, table: object, arrays: dict, used: set[str]) -> Layer:
    where = f"{path}: layer #{index + 1}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} is not a table", hint="write each layer as a [[layers]] table")
    name = _require(table, "name", str, where, 'give the layer a name = "..."')
    # Before the arrays are matched to layers: a bad name would otherwise show up
    # only as .npz keys that belong to no layer.
    check_name(where, "layer name", name)
    where = f"{path}: layer '{name}'"
    function = _require(
        table, "function", str, where, 'give the CMSIS-NN function, e.g. function = "arm_relu_q7"'
    )
    if function not in KERNEL_SPECS:
        raise ConfigError(
            f"{where}: unknown function '{function}'", hint="use one of: " + ", ".join(KERNEL_SPECS)
        )
    params = {k: v for k, v in table.items() if k not in _LAYER_KEYS + _LAYER_NOTES}
    notes = _parse_layer_notes(where, table)
    spec = KERNEL_SPECS[function]
    found = {}
    for role, cname in (("weights", spec.weights), ("bias", spec.bias)):
        key = f"{name}.{role}"
        if cname is not None and key in arrays:
            found[role] = arrays[key].ravel()
            used.add(key)
    return Layer(name=name, function=function, params=params, **found, **notes)


def _parse_layer_notes(where: str, table: dict) -> dict:
    notes: dict = {}
    if "out_frac_bits" in table:
        notes["out_frac_bits"] = _require(
            table, "out_frac_bits", int, where, "write out_frac_bits as an integer, e.g. 4"
        )
    if "float_tensor" in table:
        notes["float_tensor"] = _require(
            table, "float_tensor", str, where, 'write float_tensor = "tensor name"'
        )
    return notes


def _parse_quantisation(path: Path, doc: dict) -> Quantisation | None:
    if "quantisation" not in doc:
        return None
    where = f"{path}: [quantisation]"
    table = doc["quantisation"]
    if not isinstance(table, dict):
        raise ConfigError(f"{where} is not a table", hint="write it as a [quantisation] table")
    known = {*_QUANT_INTS, *_QUANT_STRS, "input_float_shape", *_QUANT_OPTIONAL}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}", hint="allowed: " + ", ".join(known)
        )
    frac = _require(table, "input_frac_bits", int, where, "e.g. input_frac_bits = 7")
    layout = _require(table, "input_layout", str, where, 'e.g. input_layout = "NCHW"')
    if layout not in _LAYOUTS:
        raise ConfigError(
            f"{where}: input_layout = {layout!r} is not supported",
            hint="use " + " or ".join(_LAYOUTS),
        )
    method = _require(table, "calibration", str, where, 'e.g. calibration = "minmax"')
    if method not in _CALIBRATIONS:
        raise ConfigError(
            f"{where}: calibration = {method!r} is unknown", hint="use " + ", ".join(_CALIBRATIONS)
        )
    shape = _require(
        table, "input_float_shape", list, where, "e.g. input_float_shape = [1, 28, 28]"
    )
    if not shape or not all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape
    ):
        raise ConfigError(
            f"{where}: input_float_shape = {shape!r} must list positive integers",
            hint="give the float model's input shape without the batch axis",
        )
    optional = {}
    for key in _QUANT_OPTIONAL:
        if key in table:
            optional[key] = _require(table, key, str, where, f'write {key} = "..."')
    model = optional.get("float_model")
    return Quantisation(
        input_frac_bits=frac,
        input_layout=layout,
        input_float_shape=tuple(shape),
        calibration=method,
        float_model=(path.parent / model).resolve() if model is not None else None,
        float_model_sha256=optional.get("float_model_sha256"),
        float_output=optional.get("float_output"),
    )


def _parse_network(path: Path, doc: dict) -> Network:
    where = str(path)
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown top-level key(s) {', '.join(unknown)}",
            hint="allowed: "
            + ", ".join(sorted(_TOP_KEYS))
            + " (layer parameters go inside [[layers]])",
        )
    version = _require(doc, "format", int, where, f"start the file with format = {FORMAT_VERSION}")
    if version != FORMAT_VERSION:
        raise ConfigError(
            f"{where}: format {version} is not supported (this hil reads {FORMAT_VERSION})",
            hint="re-export the model with this hil version",
        )
    name = doc.get("name", path.stem)
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(
            f"{where}: description must be a string", hint='write description = "..."'
        )
    shape = _require(
        doc, "input_shape", list, where, "give input_shape = [height, width, channels] or [n]"
    )
    metadata = doc.get("metadata", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ConfigError(
            f"{where}: [metadata] must hold only string values",
            hint='quote the values: key = "value"',
        )
    layers = _require(doc, "layers", list, where, "add [[layers]] tables, one per CMSIS-NN call")
    needs_arrays = any(
        isinstance(t, dict)
        and t.get("function") in KERNEL_SPECS
        and KERNEL_SPECS[t["function"]].weights is not None
        for t in layers
    )
    arrays = _read_arrays(path, needs_arrays)
    used: set[str] = set()
    parsed = tuple(_parse_layer(path, i, t, arrays, used) for i, t in enumerate(layers))
    stray = sorted(set(arrays) - used)
    if stray:
        raise ConfigError(
            f"{arrays_path(path)}: key(s) {', '.join(stray)} belong to no layer that takes them",
            hint="name keys <layer>.weights / <layer>.bias after a layer "
            "whose function has weights",
        )
    return Network(
        name=name,
        input_shape=tuple(shape),
        layers=parsed,
        description=description,
        metadata=dict(metadata),
        quantisation=_parse_quantisation(path, doc),
    )


def load_any_model_file(path: str | Path) -> "Network | S8Network":
    """Read and validate a .toml model file of either family, and its .npz."""
    path = Path(path)
    doc = _read_toml(path)
    family = doc.get("family", "q7")
    if family == "s8":
        from hil.model.s8_io import load_s8_model_file

        return load_s8_model_file(path, doc)
    if family != "q7":
        raise ConfigError(
            f"{path}: family {family!r} is not a kernel family",
            hint='use family = "s8" (int8) or leave it out (q7)',
        )
    network = _parse_network(path, {k: v for k, v in doc.items() if k != "family"})
    validate_network(network, source=str(path))
    return network


def _q7_only(network: "Network | S8Network", what: object) -> Network:
    if not isinstance(network, Network):
        raise ConfigError(
            f"{what} is an s8 (int8) model; this command runs q7 models only",
            hint="s8 models run with hil run, build, flash, soak, bench (reference, kernels, "
            "device, devices), infer and export",
        )
    return network


def load_model_file(path: str | Path) -> Network:
    """Read and validate a q7 .toml model file and its .npz."""
    return _q7_only(load_any_model_file(path), path)


def load_model(spec: str | Path) -> Network:
    """A built-in example by name, or a q7 model file by path (validated)."""
    return _q7_only(load_any_model(spec), spec)


def load_any_model(spec: str | Path) -> "Network | S8Network":
    """A built-in example by name, or a model file of either family by path (validated)."""
    from hil.model.examples import EXAMPLES, build_example
    from hil.model.packaged import packaged_models

    if isinstance(spec, str) and spec in EXAMPLES:
        return build_example(spec)
    packaged = packaged_models()
    if isinstance(spec, str) and spec in packaged:
        return load_model_file(packaged[spec])
    path = Path(spec)
    if path.suffix != ".toml" and not path.exists():
        raise ConfigError(
            f"no model '{spec}'",
            hint="give a built-in model ("
            + ", ".join([*EXAMPLES, *packaged])
            + ") or the path of a .toml model file",
        )
    if path.is_dir():
        raise ConfigError(
            f"model path {path} is a directory", hint="give the path of the .toml file inside it"
        )
    if path.suffix == ".npz":
        raise ConfigError(
            f"{path} is a model's weights file, not the model",
            hint=f"give the .toml beside it: {path.with_suffix('.toml')}",
        )
    if path.suffix == ".tflite":
        raise ConfigError(
            f"{path} is a TFLite model, not a hil model file",
            hint=f"import it first: hil import {path} --out {path.with_suffix('.toml').name}",
        )
    return load_any_model_file(path)
