"""Network validation and shape inference.

Everything a model must satisfy before it is planned, generated or run:
known functions, complete integer parameters in uint16 range, the
function's own parameter rules (the reference's validate_params), weights
and bias of the right size and dtype, and shapes that chain from the
network input through every layer. Errors name the model (or its file),
the layer and the fix.
"""

from __future__ import annotations

import re

import numpy as np

from hil.errors import ConfigError, KernelParameterError
from hil.model.layer import Layer, Network
from hil.reference.spec import KERNEL_SPECS
from hil.reference.validation import NARROW_RANGES, validate_params

Shape = tuple[int, ...]

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
UINT16_MAX = 0xFFFF

# Element-wise functions keep the shape of what they are given.
_SHAPE_PRESERVING = frozenset({"arm_relu_q7", "arm_nn_activations_direct_q7", "arm_softmax_q7"})


def _where(network: Network, source: str | None) -> str:
    return source or f"model '{network.name}'"


def _fail(where: str, layer: Layer | None, message: str, hint: str) -> ConfigError:
    prefix = f"{where}: layer '{layer.name}'" if layer is not None else where
    return ConfigError(f"{prefix}: {message}", hint=hint)


def check_name(where: str, what: str, name: object) -> None:
    """Names become C identifiers and .npz keys: identifier-like, with '-' allowed."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        suggestion = re.sub(r"[^A-Za-z0-9_-]", "_", str(name))[:64]
        if not re.match(r"[A-Za-z_]", suggestion):
            suggestion = "_" + suggestion[:63]
        raise ConfigError(
            f"{where}: {what} {name!r} is not valid: names are identifier-like (1-64 letters, "
            "digits, '_' or '-', starting with a letter or '_')",
            hint=f"rename it, e.g. to {suggestion!r}"
            + (" (and its .npz keys to match)" if what == "layer name" else ""),
        )


def check_params(where: str, layer: Layer) -> None:
    """Parameter names, types and ranges, then the function's own rules."""
    if layer.function not in KERNEL_SPECS:
        raise _fail(
            where,
            layer,
            f"unknown function '{layer.function}'",
            "use one of: " + ", ".join(KERNEL_SPECS),
        )
    spec = layer.spec
    wanted = set(spec.scalars)
    missing = [n for n in spec.scalars if n not in layer.params]
    unknown = sorted(set(layer.params) - wanted)
    if missing:
        raise _fail(
            where,
            layer,
            f"{layer.function} needs parameter(s) {', '.join(missing)}",
            f"give all of: {', '.join(spec.scalars)}",
        )
    if unknown:
        raise _fail(
            where,
            layer,
            f"{layer.function} has no parameter(s) {', '.join(unknown)}",
            f"its parameters are: {', '.join(spec.scalars)}",
        )
    for name in spec.scalars:
        value = layer.params[name]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise _fail(
                where,
                layer,
                f"parameter {name} = {value!r} is not an integer",
                "write whole numbers without quotes or decimals",
            )
        if not 0 <= int(value) <= UINT16_MAX:
            narrow = NARROW_RANGES.get(name)
            if narrow is not None:  # name the range the function accepts, not the C type's
                lo, hi, why = narrow
                raise _fail(
                    where,
                    layer,
                    f"parameter {name} = {value} is outside {lo}..{hi} ({why})",
                    f"use a {name} in {lo}..{hi}",
                )
            raise _fail(
                where,
                layer,
                f"parameter {name} = {value} is outside 0..{UINT16_MAX}",
                "the C parameter is a uint16_t; use a value in that range",
            )
    try:
        validate_params(layer.function, {n: int(layer.params[n]) for n in spec.scalars})
    except KernelParameterError as exc:
        raise KernelParameterError(
            f"{where}: layer '{layer.name}': {exc.message}", hint=exc.hint
        ) from exc


def check_arrays(where: str, layer: Layer) -> None:
    """Weights and bias present exactly when the function takes them, right size."""
    spec = layer.spec
    for role, cname, size_fn in (
        ("weights", spec.weights, spec.weights_size),
        ("bias", spec.bias, spec.bias_size),
    ):
        array = getattr(layer, role)
        if cname is None:
            if array is not None:
                raise _fail(
                    where, layer, f"{layer.function} takes no {role}", f"remove the layer's {role}"
                )
            continue
        if array is None:
            raise _fail(
                where,
                layer,
                f"{role} ({cname}) missing",
                f"provide '{layer.name}.{role}' as int8 in the .npz",
            )
        if not isinstance(array, np.ndarray) or array.dtype != np.int8:
            dtype = getattr(array, "dtype", type(array).__name__)
            raise _fail(
                where,
                layer,
                f"{role} have dtype {dtype}, need int8",
                "store the quantised q7 values as numpy int8",
            )
        assert size_fn is not None  # a spec that names an array gives its size
        expected = size_fn(layer.params)
        if array.size != expected:
            raise _fail(
                where,
                layer,
                f"{role} have {array.size} elements, {layer.function} reads {expected}",
                f"store {cname} flat in the C layout with {expected} elements",
            )


def _layer_output_shape(layer: Layer, in_shape: Shape) -> Shape:
    if layer.function in _SHAPE_PRESERVING:
        return in_shape
    return tuple(int(d) for d in layer.output_shape)


def infer_shapes(network: Network, source: str | None = None) -> list[Shape]:
    """Each layer's output shape (HWC for images, (n,) for vectors).

    Raises ConfigError when a layer's input does not match what the layer
    before it (or the network input) produces.
    """
    where = _where(network, source)
    shape: Shape = tuple(int(d) for d in network.input_shape)
    shapes = []
    for i, layer in enumerate(network.layers):
        given = "the network input" if i == 0 else f"layer '{network.layers[i - 1].name}'"
        spec = layer.spec
        want = tuple(int(d) for d in spec.input_shape(layer.params))
        size = int(np.prod(shape))
        if layer.input_size != size:
            raise _fail(
                where,
                layer,
                f"takes {layer.input_size} elements {_fmt(want)} but {given} "
                f"produces {size} {_fmt(shape)}",
                "make the size parameters match the previous layer's output"
                if i
                else "make input_shape match the first layer",
            )
        # Images must chain as HWC; the network input must match the first
        # image layer exactly, a vector may only be reinterpreted mid-network.
        if len(want) == 3 and (len(shape) == 3 or i == 0) and want != shape:
            raise _fail(
                where,
                layer,
                f"expects an HWC input of {_fmt(want)} but {given} produces {_fmt(shape)}",
                "set dim_im_in*/ch_im_in to the previous output's height, width, channels"
                if i
                else "make input_shape match the first layer",
            )
        shape = _layer_output_shape(layer, shape)
        shapes.append(shape)
    return shapes


def _fmt(shape: Shape) -> str:
    return "(" + "x".join(str(d) for d in shape) + ")"


def validate_network(network: Network, source: str | None = None) -> list[Shape]:
    """Check everything about ``network``; return the inferred output shapes.

    ``source`` names where the network came from (a file) for messages.
    """
    where = _where(network, source)
    check_name(where, "model name", network.name)
    if not network.layers:
        raise ConfigError(
            f"{where}: the model has no layers", hint="add at least one [[layers]] entry"
        )
    if (
        not network.input_shape
        or any(
            isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1
            for d in network.input_shape
        )
        or len(network.input_shape) not in (1, 3)
    ):
        raise ConfigError(
            f"{where}: input_shape {list(network.input_shape)} is invalid",
            hint="give [height, width, channels] for images or [n] for vectors, "
            "all positive integers",
        )
    seen = set()
    for layer in network.layers:
        check_name(where, "layer name", layer.name)
        if layer.name in seen:
            raise _fail(where, layer, "name is used twice", "give every layer a unique name")
        seen.add(layer.name)
        check_params(where, layer)
        check_arrays(where, layer)
    return infer_shapes(network, source)
