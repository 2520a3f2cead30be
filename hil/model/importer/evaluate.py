"""Per-layer quantisation diagnostics of an imported network on a float data set.

Each layer's q7 reference output (hil.reference on the quantised inputs,
the whole set at once) is dequantised with the layer's out_frac_bits and
compared with the float model's matching tensor. The layer whose SNR falls
most below the one before it is marked: that is where accuracy goes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hil.model.diagnostics import LayerMetrics, blamed_layer, layer_metrics, snr_drops, top1
from hil.model.float_inputs import quantise_inputs
from hil.model.float_model import FloatModel
from hil.model.importer.layout import tensor_hwc
from hil.model.layer import Network
from hil.reference.network import run_network_batch

CHUNK = 256  # images per onnxruntime call: bounds the memory of every intermediate tensor


@dataclass(frozen=True)
class LayerDiagnostic:
    layer: str
    function: str
    tensor: str
    metrics: LayerMetrics


@dataclass(frozen=True)
class Diagnostics:
    inputs: int
    input_saturated: int
    input_metrics: LayerMetrics
    layers: tuple[LayerDiagnostic, ...]
    worst: int  # index into layers of the largest SNR drop
    q7_top1: np.ndarray
    float_top1: np.ndarray


def float_tensors(model: FloatModel, x: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Every named tensor for the whole batch, run in chunks."""
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(x), CHUNK):
        for name, value in model.run(x[start : start + CHUNK], names).items():
            parts.setdefault(name, []).append(value)
    return {name: np.concatenate(values) for name, values in parts.items()}


def diagnose(network: Network, x: np.ndarray, tensors: dict[str, np.ndarray]) -> Diagnostics:
    """Compare every layer of ``network`` with the float ``tensors`` of inputs ``x``."""
    q = network.quantisation
    assert q is not None and q.float_output is not None
    q7, saturated = quantise_inputs(x, network)
    outputs = run_network_batch(network, q7)
    input_metrics = layer_metrics(tensor_hwc(x), q7.reshape(len(x), -1), q.input_frac_bits)
    layers = []
    for layer, out in zip(network.layers, outputs):
        assert layer.float_tensor is not None and layer.out_frac_bits is not None
        ref = tensor_hwc(tensors[layer.float_tensor])
        layers.append(
            LayerDiagnostic(
                layer.name,
                layer.function,
                layer.float_tensor,
                layer_metrics(ref, out, layer.out_frac_bits),
            )
        )
    drops = snr_drops(input_metrics.snr_db, [d.metrics.snr_db for d in layers])
    worst = blamed_layer(drops, [d.function for d in layers])
    return Diagnostics(
        inputs=len(x),
        input_saturated=saturated,
        input_metrics=input_metrics,
        layers=tuple(layers),
        worst=worst if worst is not None else len(layers) - 1,
        q7_top1=top1(outputs[-1]),
        float_top1=top1(tensors[q.float_output].reshape(len(x), -1)),
    )
