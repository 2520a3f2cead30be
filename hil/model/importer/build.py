"""ONNX file + calibration data -> a q7 Network: the import, start to end.

read_graph (graph.py) gives float ops; the float model's tensors on the
calibration data give each activation's format (quantise.py); kernel_choice
picks each layer's function; layout.py puts the weights in its order. The
result carries the import report: kernel choices, formats, the shifts that
had to move, and where CMSIS-NN's semantics differ from ONNX's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hil.errors import ConfigError
from hil.model.float_model import FloatModel
from hil.model.importer import layout
from hil.model.importer.calibrate import METHODS
from hil.model.importer.evaluate import Diagnostics, diagnose, float_tensors
from hil.model.importer.graph import Graph, read_graph
from hil.model.importer.kernel_choice import PREFER_TAGS, Choice, choose
from hil.model.importer.ops import Activation, Conv, Dense, Pool
from hil.model.importer.quantise import QuantOp, quantise
from hil.model.layer import Layer, Network, Quantisation
from hil.model.validate import check_name, validate_network


@dataclass(frozen=True)
class LayerReport:
    layer: str
    onnx_op: str
    function: str
    why: str
    fi: int
    fo: int
    fw: int | None
    fb: int | None
    bias_shift: int | None
    out_shift: int | None


@dataclass
class ImportResult:
    network: Network
    layers: list[LayerReport]
    notes: list[str]  # shifts moved, semantics that differ from ONNX
    calibration: Diagnostics
    validation: Diagnostics | None = None
    labels: np.ndarray | None = None
    extra: dict[str, str] = field(default_factory=dict)


def check_float_data(x: object, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A float32 (N, *shape) array in the float model's layout, or a one-line error."""
    if not isinstance(x, np.ndarray):
        raise ConfigError(f"{what} is not a numpy array", hint="save it with numpy.save")
    want = "(N, " + ", ".join(map(str, shape)) + ")"
    if x.dtype != np.float32:
        raise ConfigError(
            f"{what} has dtype {x.dtype}, must be float32",
            hint="convert it: x.astype(np.float32) (float data in the float model's layout)",
        )
    nhwc = (*shape[1:], shape[0]) if len(shape) == 3 else None
    if x.ndim == len(shape) + 1 and x.shape[1:] != tuple(shape) and x.shape[1:] == nhwc:
        raise ConfigError(
            f"{what} has shape {x.shape}: that is NHWC, the model takes NCHW {want}",
            hint="transpose it: x.transpose(0, 3, 1, 2)",
        )
    if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != tuple(shape) or len(x) == 0:
        raise ConfigError(
            f"{what} has shape {x.shape}, the model takes {want}",
            hint="stack the inputs along a first (batch) axis, in the ONNX model's layout",
        )
    if not np.isfinite(x).all():
        bad = int(x.size - np.count_nonzero(np.isfinite(x)))
        raise ConfigError(
            f"{what} holds {bad} NaN or infinite value(s)", hint="clean the data first"
        )
    return x


def check_labels(labels: object, count: int, classes: int, what: str = "labels") -> np.ndarray:
    if not isinstance(labels, np.ndarray) or not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"{what} must be integer class ids", hint="save them as an int array")
    labels = labels.reshape(-1)
    if labels.size != count:
        raise ConfigError(
            f"{what} has {labels.size} entries for {count} inputs", hint="give one label per input"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ConfigError(
            f"{what} holds class ids {int(labels.min())}..{int(labels.max())}, "
            f"the model has {classes} classes",
            hint=f"use ids 0..{classes - 1}",
        )
    return labels


def _semantics(graph: Graph) -> list[str]:
    """Where the CMSIS-NN kernels compute something other than ONNX does."""
    notes = [
        "rounding: every Conv/Gemm output is (acc + 2^(out_shift-1)) >> out_shift "
        "(round half up) and saturates to -128..127; values are quantised half away from zero"
    ]
    for op in graph.ops:
        if isinstance(op, Pool) and op.kind == "avg":
            text = (
                f"{op.name}: arm_avepool_q7_HWC averages along x then along y, truncating "
                "each mean toward zero (ONNX takes one exact mean)"
            )
            if op.pad:
                text += (
                    "; at padded borders the DSP build starts a clipped window at the output column"
                )
            notes.append(text)
        elif isinstance(op, Activation) and op.kind == "softmax":
            notes.append(
                f"{op.name}: arm_softmax_q7 computes 2^v of the raw q7 values, not e^x of the real "
                "ones: its probabilities differ from ONNX's (the order, so top-1, is kept)"
            )
        elif isinstance(op, Activation) and op.kind in ("sigmoid", "tanh"):
            notes.append(
                f"{op.name}: {op.kind} is a 256-entry table on the input's top 8 bits (Q3.4)"
            )
    return notes


def _layer(q: QuantOp, choice: Choice) -> Layer:
    op = q.op
    weights = None
    if isinstance(op, Conv):
        assert q.weights is not None
        weights = (
            layout.depthwise_weights(q.weights) if op.depthwise else layout.conv_weights(q.weights)
        )
    elif isinstance(op, Dense):
        assert q.weights is not None
        w = q.weights
        if op.flattened_from is not None:
            w = layout.dense_columns_hwc(w, op.flattened_from)
        weights = layout.dense_weights(w, choice.function == "arm_fully_connected_q7_opt")
    return Layer(
        name=op.name,
        function=choice.function,
        params=choice.params,
        weights=weights,
        bias=q.bias,
        out_frac_bits=q.fo,
        float_tensor=op.out_tensor,
    )


def _check_options(graph: Graph, method: str, prefer: tuple[str, ...], overrides: dict[str, str]):
    if method not in METHODS:
        raise ConfigError(
            f"unknown calibration method '{method}'", hint="use " + ", ".join(METHODS)
        )
    for tag in prefer:
        if tag not in PREFER_TAGS:
            raise ConfigError(f"unknown --prefer '{tag}'", hint="use " + ", ".join(PREFER_TAGS))
    names = [op.name for op in graph.ops]
    for layer in overrides:
        if layer not in names:
            raise ConfigError(
                f"--kernel {layer}=...: there is no layer '{layer}'",
                hint="layers: " + ", ".join(names),
            )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def import_onnx(
    path: str | Path,
    calibration: np.ndarray,
    *,
    name: str,
    method: str = "minmax",
    prefer: tuple[str, ...] = (),
    overrides: dict[str, str] | None = None,
    validate: tuple[np.ndarray, np.ndarray | None] | None = None,
) -> ImportResult:
    """Quantise the ONNX model at ``path`` with ``calibration`` inputs into a q7 Network."""
    path = Path(path).resolve()
    overrides = dict(overrides or {})
    check_name("hil import", "model name", name)
    graph = read_graph(path)
    _check_options(graph, method, prefer, overrides)
    x = check_float_data(calibration, graph.input_shape, "calibration data")
    model = FloatModel(path)
    names = [op.out_tensor for op in graph.ops]
    tensors = float_tensors(model, x, names)
    quantised = quantise(graph.ops, x, tensors, method)
    layers, reports = [], []
    for q in quantised.ops:
        choice = choose(q, prefer, overrides.get(q.op.name))
        layers.append(_layer(q, choice))
        weighted = q.fw is not None
        reports.append(
            LayerReport(
                q.op.name,
                q.op.onnx_op,
                choice.function,
                choice.why,
                q.fi,
                q.fo,
                q.fw,
                q.fb,
                q.bias_shift if weighted else None,
                q.out_shift if weighted else None,
            )
        )
    image = len(graph.input_shape) == 3
    shape = graph.input_shape
    network = Network(
        name=name,
        input_shape=(shape[1], shape[2], shape[0]) if image else shape,
        layers=tuple(layers),
        description=f"imported from {path.name} with {method} calibration on {len(x)} inputs",
        metadata={"source": path.name},
        quantisation=Quantisation(
            input_frac_bits=quantised.input_frac_bits,
            input_layout="NCHW" if image else "HWC",
            input_float_shape=tuple(shape),
            calibration=method,
            float_model=path,
            float_model_sha256=sha256_of(path),
            float_output=graph.output_name,
        ),
    )
    validate_network(network)
    result = ImportResult(
        network=network,
        layers=reports,
        notes=quantised.notes + graph.notes + _semantics(graph),
        calibration=diagnose(network, x, tensors),
    )
    if validate is not None:
        vx = check_float_data(validate[0], graph.input_shape, "validation data")
        classes = layers[-1].output_size
        if validate[1] is not None:
            result.labels = check_labels(validate[1], len(vx), classes)
        result.validation = diagnose(network, vx, float_tensors(model, vx, names))
    return result
