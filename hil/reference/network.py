"""Run a whole Network through the reference, keeping every layer's output.

Plans (weight matrices, window geometry, validated parameters) are built once
per Layer object and reused while that object lives. Layers are frozen
values; replacing a layer's arrays in place after a run is not supported.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from hil.errors import ConfigError
from hil.model.layer import Layer, Network
from hil.reference import plan_kernel
from hil.reference._kernel import Plan, check_variant

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


def run_layer(layer: Layer, x: np.ndarray, variant: str = "dsp") -> np.ndarray:
    """One layer's output (flat int8) for input ``x``; ``x`` is never modified."""
    check_variant(variant)
    plan = layer_plan(layer, variant)
    return plan(_check_input(f"layer '{layer.name}'", x, layer.input_size))


def run_network(network: Network, x: np.ndarray, variant: str = "dsp") -> list[np.ndarray]:
    """Every layer's output, in order (flat int8 arrays); the last is the network's."""
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
