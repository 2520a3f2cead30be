"""Run a whole Network through the reference, keeping every layer's output.

Plans (weight matrices, window geometry, validated parameters) are built once
per Layer object and reused while that object lives. Layers are frozen
values; replacing a layer's arrays in place after a run is not supported.

run_network takes one input; run_network_batch takes a data set and runs
each layer on a chunk of images at once (the plans are batch-aware), which
is bit for bit the same as one run_network per image.
"""

from __future__ import annotations

import threading
import weakref
from typing import Callable, Iterable, Iterator, cast

import numpy as np

from hil.errors import ConfigError
from hil.model.layer import Layer, Network
from hil.model.s8 import S8Layer, S8Network
from hil.reference import plan_kernel
from hil.reference._kernel import Plan, check_variant
from hil.reference.s8.requantize import Rounding

_plans: dict[tuple[int, str], tuple[weakref.ref, Plan]] = {}
_lock = threading.Lock()


def _forget(key: tuple[int, str]) -> None:
    with _lock:
        _plans.pop(key, None)


def layer_plan(layer: Layer, variant: str = "dsp") -> Plan:
    """The cached plan of ``layer`` (validated on first use)."""
    key = (id(layer), variant)
    with _lock:
        hit = _plans.get(key)
    if hit is not None and hit[0]() is layer:
        return hit[1]
    try:
        plan = plan_kernel(layer.function, layer.params, layer.weights, layer.bias, variant)
    except ConfigError as exc:
        raise type(exc)(f"layer '{layer.name}': {exc.message}", hint=exc.hint) from exc

    def forget(_ref: object, key: tuple[int, str] = key) -> None:
        _forget(key)

    ref = weakref.ref(layer, forget)
    with _lock:
        _plans[key] = (ref, plan)
    return plan


def _check_input(what: str, x: np.ndarray, size: int) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise ConfigError(
            f"{what}: input is a {type(x).__name__}, not a numpy array",
            hint="pass an int8 numpy array",
        )
    if x.dtype != np.int8:
        raise ConfigError(
            f"{what}: input has dtype {x.dtype}, must be int8",
            hint="quantise the input to q7 (int8) first",
        )
    if x.size != size:
        raise ConfigError(
            f"{what}: input has {x.size} elements, expected {size}",
            hint="check the input shape against the model's input",
        )
    return np.ascontiguousarray(x).reshape(-1)


def _rounding(variant: str) -> Rounding:
    """An s8 network's reference variant is its requantisation rounding."""
    from hil.reference.s8 import ROUNDINGS

    if variant not in ROUNDINGS:
        raise ConfigError(
            f"reference variant {variant!r} is not an s8 rounding",
            hint="s8 networks run with variant double (TFLite Micro's) or single",
        )
    return cast(Rounding, variant)


def run_layer(layer: Layer | S8Layer, x: np.ndarray, variant: str = "dsp") -> np.ndarray:
    """One layer's output (flat int8) for input ``x``; ``x`` is never modified."""
    if isinstance(layer, S8Layer):
        from hil.reference import s8

        x = _check_input(f"layer '{layer.name}'", x, layer.input_size)
        return s8.run_layer(layer, x, _rounding(variant))
    check_variant(variant)
    plan = layer_plan(layer, variant)
    return plan(_check_input(f"layer '{layer.name}'", x, layer.input_size))


def _check_batch(network: Network | S8Network, x: np.ndarray) -> np.ndarray:
    # an s8 network passes flat rows: its input_shape carries the model's batch axis
    """The batch as (N, input_size) rows; accepts (N, *input_shape) or (N, input_size)."""
    what = f"model '{network.name}'"
    if not isinstance(x, np.ndarray):
        raise ConfigError(
            f"{what}: inputs are a {type(x).__name__}, not a numpy array",
            hint="pass an int8 numpy array of shape (N, *input_shape)",
        )
    if x.dtype != np.int8:
        raise ConfigError(
            f"{what}: inputs have dtype {x.dtype}, must be int8",
            hint="quantise the inputs to q7 (int8) first",
        )
    size = network.input_size
    if x.ndim < 1 or x.shape[1:] not in (tuple(network.input_shape), (size,)):
        shape = ", ".join(map(str, network.input_shape))
        raise ConfigError(
            f"{what}: inputs have shape {x.shape}, expected (N, {shape})",
            hint="stack the inputs along a new first axis",
        )
    return np.ascontiguousarray(x).reshape(x.shape[0], size)


def _check_chain(network: Network) -> None:
    """Each layer takes as many elements as the one before it gives."""
    size = network.input_size
    for layer in network.layers:
        if size != layer.input_size:
            raise ConfigError(
                f"model '{network.name}': layer '{layer.name}' takes {layer.input_size} "
                f"elements but gets {size}",
                hint="fix the layer's shape parameters",
            )
        size = layer.output_size


# Images per chunk: enough that numpy's per-call overhead is spread thin,
# few enough that a chunk's im2col matrices stay small (CIFAR-10's conv2
# takes 800 KB per image as float32). Measured on CIFAR-10: 32 runs fastest;
# 128 is a third slower, as the working set falls out of the caches.
DEFAULT_CHUNK = 32


def run_network_batch(
    network: Network | S8Network,
    x: np.ndarray,
    variant: str = "dsp",
    chunk_size: int = DEFAULT_CHUNK,
) -> list[np.ndarray]:
    """Every layer's outputs for a batch: one (N, layer.output_size) int8 array per layer.

    ``x`` is (N, *network.input_shape) int8 (or (N, input_size)). Row i of
    each array equals run_network(network, x[i], variant) for that layer.
    Layers run on ``chunk_size`` images at a time, so the working memory is
    bounded; only the outputs themselves grow with N. An s8 network's
    ``variant`` is its rounding.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ConfigError(
            f"chunk size {chunk_size!r} must be a whole number >= 1",
            hint=f"use e.g. {DEFAULT_CHUNK}",
        )
    if isinstance(network, S8Network):
        from hil.reference import s8

        n = len(x) if isinstance(x, np.ndarray) and x.ndim else 0
        rounding = _rounding(variant)
        rows = _check_batch(network, np.asarray(x).reshape(n, -1) if n else x)

        def run_chunk(chunk: np.ndarray) -> list[np.ndarray]:
            return s8.run_network_batch(
                network, chunk.reshape(len(chunk), *network.input_shape[1:]), rounding
            )

        return _in_chunks(network, rows, chunk_size, run_chunk)
    check_variant(variant)
    plans = [layer_plan(layer, variant) for layer in network.layers]
    rows = _check_batch(network, x)
    _check_chain(network)

    def run_plans(chunk: np.ndarray) -> Iterator[np.ndarray]:
        for plan in plans:
            chunk = plan(chunk)
            yield chunk

    return _in_chunks(network, rows, chunk_size, run_plans)


def _in_chunks(
    network: Network | S8Network,
    rows: np.ndarray,
    chunk_size: int,
    run_chunk: Callable[[np.ndarray], Iterable[np.ndarray]],
) -> list[np.ndarray]:
    """Every layer's outputs for ``rows``, ``chunk_size`` rows at a time, so the
    working memory stays bounded; ``run_chunk`` gives a chunk's layer outputs in order."""
    n = rows.shape[0]
    outputs = [np.empty((n, layer.output_size), dtype=np.int8) for layer in network.layers]
    for start in range(0, n, chunk_size):
        for out, y in zip(outputs, run_chunk(rows[start : start + chunk_size]), strict=True):
            out[start : start + y.shape[0]] = y
    return outputs


def run_network(
    network: Network | S8Network, x: np.ndarray, variant: str = "dsp"
) -> list[np.ndarray]:
    """Every layer's output, in order (flat int8 arrays); the last is the network's.

    An s8 network's ``variant`` is its rounding ("double" or "single")."""
    if isinstance(network, S8Network):
        from hil.reference import s8

        y = _check_input(f"model '{network.name}'", x, network.input_size)
        return s8.run_network(network, y, _rounding(variant))
    check_variant(variant)
    plans = [layer_plan(layer, variant) for layer in network.layers]
    y = _check_input(f"model '{network.name}'", x, network.input_size)
    outputs = []
    for layer, plan in zip(network.layers, plans):
        if y.size != layer.input_size:
            raise ConfigError(
                f"model '{network.name}': layer '{layer.name}' takes {layer.input_size} "
                f"elements but gets {y.size}",
                hint="fix the layer's shape parameters",
            )
        y = plan(y)
        outputs.append(y)
    return outputs
