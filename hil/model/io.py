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

    [[layers]]                     # one table per CMSIS-NN call, in order
    name = "conv1"
    function = "arm_convolve_HWC_q7_basic"   # the C function name
    dim_im_in = 28                 # every scalar C parameter by its C name
    ch_im_in = 1                   # (see hil.reference.spec.KERNEL_SPECS):
    ...                            # integers in 0..65535, nothing else

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
import tomllib
import zipfile
from pathlib import Path
from typing import SupportsInt, cast

import numpy as np

from hil.errors import ConfigError
from hil.model.layer import Layer, Network
from hil.model.validate import check_name, validate_network
from hil.reference.spec import KERNEL_SPECS

FORMAT_VERSION = 1
_LAYER_KEYS = ("name", "function")
_TOP_KEYS = {"format", "name", "description", "input_shape", "metadata", "layers"}


def arrays_path(toml_path: Path) -> Path:
    return Path(toml_path).with_suffix(".npz")


# ---------------------------------------------------------------- writing


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(int(cast(SupportsInt, value)))


def render_model_toml(network: Network) -> str:
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
    for layer in network.layers:
        lines += [
            "",
            "[[layers]]",
            f"name = {_toml_value(layer.name)}",
            f"function = {_toml_value(layer.function)}",
        ]
        lines += [f"{n} = {int(layer.params[n])}" for n in layer.spec.scalars]
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
    path.write_text(render_model_toml(network), encoding="utf-8")
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
    params = {k: v for k, v in table.items() if k not in _LAYER_KEYS}
    spec = KERNEL_SPECS[function]
    found = {}
    for role, cname in (("weights", spec.weights), ("bias", spec.bias)):
        key = f"{name}.{role}"
        if cname is not None and key in arrays:
            found[role] = arrays[key].ravel()
            used.add(key)
    return Layer(name=name, function=function, params=params, **found)


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
    )


def load_model_file(path: str | Path) -> Network:
    """Read and validate a .toml model file and its .npz."""
    path = Path(path)
    network = _parse_network(path, _read_toml(path))
    validate_network(network, source=str(path))
    return network


def load_model(spec: str | Path) -> Network:
    """A built-in example by name, or a model file by path (validated)."""
    from hil.model.examples import EXAMPLES, build_example

    if isinstance(spec, str) and spec in EXAMPLES:
        return build_example(spec)
    path = Path(spec)
    if path.suffix != ".toml" and not path.exists():
        raise ConfigError(
            f"no model '{spec}'",
            hint="give a built-in example ("
            + ", ".join(EXAMPLES)
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
    return load_model_file(path)
