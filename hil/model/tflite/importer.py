"""`hil import MODEL.tflite`: a full-int8 TFLite model as an s8 network, checked.

Lowering is exact (no requantisation happens here: the multipliers and shifts
are those TFLite Micro derives from the model's scales), so what needs
proving is that hil's reference computes what TFLite Micro computes on this
model: every layer's output on the inputs given (or on seeded random ones)
is compared byte for byte before the model file is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hil.errors import ConfigError
from hil.model.s8 import S8Network
from hil.model.s8_inputs import s8_inputs, sample_shape
from hil.model.tflite import micro
from hil.model.tflite.graph import Graph
from hil.model.tflite.lower import lower_graph
from hil.model.tflite.reader import read_model
from hil.reference.s8 import run_network_batch

CHECK_INPUTS = 8  # random inputs the check uses when none are given


@dataclass(frozen=True)
class LayerCheck:
    layer: str
    function: str
    tensor: str
    values: int  # outputs compared
    mismatches: int


@dataclass(frozen=True)
class TfliteImport:
    network: S8Network
    graph: Graph
    checks: tuple[LayerCheck, ...]
    inputs: int  # how many inputs were compared
    random_inputs: bool
    saturated: int  # float input values clipped when quantised
    x: np.ndarray  # the int8 inputs compared (N, *sample shape): the given ones, quantised
    reference_outputs: np.ndarray  # the last layer's int8 output per input (N, size)
    tflm_outputs: np.ndarray  # TFLM's, dequantised when the model dequantises

    @property
    def exact(self) -> bool:
        return all(c.mismatches == 0 for c in self.checks)


def _tflm_layers(graph: Graph, network: S8Network, feeds: np.ndarray):
    """TFLM's output and every layer's tensor, per input (one TFLM run each)."""
    index = {t.name: i for i, t in enumerate(graph.tensors)}
    tensors = tuple(index[layer.tensor] for layer in network.layers)
    interp = micro.interpreter(graph)
    finals, layers = [], []
    for row in feeds:
        final, *per_layer = micro.run(interp, row[None], tensors)
        finals.append(final.reshape(-1))
        layers.append([t.reshape(-1) for t in per_layer])
    return np.stack(finals), layers


def _feeds(network: S8Network, x: np.ndarray, given: np.ndarray | None) -> np.ndarray:
    """What TFLM is given: the user's float inputs as they are when the model
    quantises its own input (so its QUANTIZE is checked too), else int8."""
    if not network.float_input:
        return x
    if given is not None and np.issubdtype(np.asarray(given).dtype, np.floating):
        return np.asarray(given, np.float32).reshape(x.shape)
    return network.input_quant.dequantise(x)  # quantises back to x exactly


def import_tflite(
    path: Path, name: str, inputs: np.ndarray | None = None, seed: int = 0
) -> TfliteImport:
    """Read, lower and check ``path``; ``inputs`` (int8 or float32) drive the check."""
    graph = read_model(path)
    network = lower_graph(graph, name)
    random_inputs = inputs is None
    saturated = 0
    if inputs is None:
        rng = np.random.default_rng(seed)
        x = rng.integers(-128, 128, size=(CHECK_INPUTS, *sample_shape(network))).astype(np.int8)
    else:
        x, saturated = s8_inputs(inputs, network, "--validate")
    ours = run_network_batch(network, x.reshape(len(x), *network.input_shape[1:]))
    finals, theirs = _tflm_layers(graph, network, _feeds(network, x, inputs))
    checks = []
    for i, layer in enumerate(network.layers):
        want = np.stack([t[i] for t in theirs])
        if want.shape != ours[i].shape:
            raise ConfigError(
                f"layer {layer.name}: TFLite Micro's tensor {layer.tensor} has "
                f"{want.shape[1]} values, hil's call writes {ours[i].shape[1]}",
                hint="report this model to hil's developers",
            )
        bad = int(np.count_nonzero(want != ours[i]))
        checks.append(LayerCheck(layer.name, layer.function, layer.tensor, want.size, bad))
    return TfliteImport(
        network=network,
        graph=graph,
        checks=tuple(checks),
        inputs=len(x),
        random_inputs=random_inputs,
        saturated=saturated,
        x=x,
        reference_outputs=ours[-1],
        tflm_outputs=finals,
    )
