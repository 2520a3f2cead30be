"""Seeded random one-op int8 TFLite models, with TFLite Micro's outputs.

``cases(function, n, seed)`` gives ``n`` cases of one CMSIS-NN s8 function:
a one-operator Graph (written through hil's TFLite writer, so TFLM reads the
same model hil imports), its int8 input, the layers hil lowers it to and
TFLM's int8 output. Shapes, strides, padding, dilation, per-channel scales,
zero points and fused activations are drawn at random, and every few cases
is an edge case: a 1x1 input, extreme zero points, saturating scales.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hil.kernels.s8 import S8_FUNCTIONS
from hil.model.s8 import S8Layer
from hil.model.tflite.graph import Graph, Operator, Tensor
from hil.model.tflite.lower import lower_graph
from hil.reference.s8.convolution import conv_accumulators, depthwise_accumulators
from hil.reference.s8.fully_connected import fc_accumulators

from helpers import tflm

FUNCTIONS = S8_FUNCTIONS
ACTIVATIONS = ("NONE", "RELU", "RELU6")


@dataclass(frozen=True)
class Case:
    function: str
    graph: Graph
    x: np.ndarray
    layers: tuple[S8Layer, ...]
    expected: np.ndarray  # TFLM's int8 output, flat

    @property
    def layer(self) -> S8Layer:
        return self.layers[0]


def _t(name, shape, dtype="INT8", scale=(), zp=(), dim=0, data=None) -> Tensor:
    return Tensor(name, tuple(int(d) for d in shape), dtype, tuple(float(s) for s in scale),
                  tuple(int(z) for z in zp), dim, data)  # fmt: skip


def _scale(rng: np.random.Generator) -> float:
    return float(np.float32(2.0 ** rng.uniform(-10, 0)))


def _zp(rng: np.random.Generator, edge: bool) -> int:
    return int(rng.choice([-128, 127, 0])) if edge else int(rng.integers(-128, 128))


def _out_quant(rng, real: np.ndarray, edge: bool) -> tuple[float, int]:
    """An output scale and zero point that spread ``real`` over int8 (or, for an
    edge case, saturate it)."""
    lo, hi = min(float(real.min()), 0.0), max(float(real.max()), 0.0)
    span = max(hi - lo, 1e-6)
    scale = span / 255 * (rng.uniform(0.05, 0.5) if edge else rng.uniform(0.7, 1.5))
    scale = float(np.float32(scale))
    zp = int(np.clip(round(-128 - lo / scale), -128, 127))
    return scale, zp


def _weights(rng, shape, edge: bool) -> np.ndarray:
    if edge and rng.random() < 0.3:
        return np.full(shape, rng.choice([-127, 127, 0]), np.int8)
    return rng.integers(-127, 128, size=shape).astype(np.int8)


def _conv(rng, depthwise: bool, edge: bool):
    n = 2 if rng.random() < 0.1 else 1
    h, w = (1, 1) if edge and rng.random() < 0.3 else rng.integers(1, 11, size=2)
    c = int(rng.integers(1, 7))
    mult = int(rng.integers(1, 4)) if depthwise else 1
    oc = c * mult if depthwise else int(rng.integers(1, 9))
    kh, kw = rng.integers(1, 6, size=2)
    sh, sw = rng.integers(1, 4, size=2)
    dh, dw = rng.integers(1, 3, size=2) if rng.random() < 0.3 else (1, 1)
    padding = str(rng.choice(["SAME", "VALID"]))
    if padding == "VALID":  # the filter must fit
        kh, kw = min(kh, (h - 1) // dh + 1), min(kw, (w - 1) // dw + 1)
    s_in, zp_in = _scale(rng), _zp(rng, edge)
    x = rng.integers(-128, 128, size=(n, h, w, c)).astype(np.int8)
    wshape = (1, kh, kw, oc) if depthwise else (oc, kh, kw, c)
    weights = _weights(rng, wshape, edge)
    per_channel = rng.random() < 0.8
    s_w = [float(np.float32(2.0 ** rng.uniform(-9, -4))) for _ in range(oc if per_channel else 1)]
    s_b = [s_in * s for s in (s_w if per_channel else s_w * oc)]
    bias = rng.integers(-(1 << 14), 1 << 14, size=oc).astype(np.int32)
    if edge and rng.random() < 0.3:
        bias = rng.integers(-(1 << 24), 1 << 24, size=oc).astype(np.int32)
    options = dict(
        padding=padding, stride_w=int(sw), stride_h=int(sh),
        dilation_w_factor=int(dw), dilation_h_factor=int(dh),
        fused_activation_function=str(rng.choice(ACTIVATIONS)),
    )  # fmt: skip
    op = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
    if depthwise:
        options["depth_multiplier"] = mult

    def graph(s_out: float, zp_out: int, out_shape) -> Graph:
        dim = 3 if depthwise else 0
        tensors = (
            _t("input", x.shape, scale=[s_in], zp=[zp_in]),
            _t("weights", wshape, scale=s_w, zp=[0] * len(s_w), dim=dim, data=weights),
            _t("bias", [oc], "INT32", scale=s_b, zp=[0] * oc, data=bias),
            _t("output", out_shape, scale=[s_out], zp=[zp_out]),
        )
        return Graph(tensors, (Operator(op, (0, 1, 2), (3,), options),), (0,), (3,))

    return x, graph, (conv_accumulators if not depthwise else depthwise_accumulators)


def _conv_case(rng, depthwise: bool, edge: bool):
    x, graph, accumulate = _conv(rng, depthwise, edge)
    draft = lower_graph(graph(1.0, 0, (1, 1, 1, 1))).layers[0]
    p = draft.params
    acc = accumulate(x, p, draft.arrays) + draft.arrays["bias"]
    real = acc * np.array([float(np.float32(s)) for s in _scales(graph)]) * _in_scale(graph)
    s_out, zp_out = _out_quant(rng, real, edge)
    return x, graph(s_out, zp_out, (p["input_n"], p["output_h"], p["output_w"], p["output_c"]))


def _scales(graph_fn) -> list[float]:
    w = graph_fn(1.0, 0, (1,)).tensors[1]
    oc = w.shape[3] if w.quantized_dimension == 3 else w.shape[0]
    return list(w.scale) if len(w.scale) > 1 else list(w.scale) * oc


def _in_scale(graph_fn) -> float:
    return graph_fn(1.0, 0, (1,)).tensors[0].scale[0]


def _fc_case(rng, per_channel: bool, edge: bool):
    n = int(rng.integers(1, 4))
    accum, depth = int(rng.integers(1, 65)), int(rng.integers(2 if per_channel else 1, 33))
    s_in, zp_in = _scale(rng), _zp(rng, edge)
    x = rng.integers(-128, 128, size=(n, accum)).astype(np.int8)
    weights = _weights(rng, (depth, accum), edge)
    s_w = [
        float(np.float32(2.0 ** rng.uniform(-9, -4))) for _ in range(depth if per_channel else 1)
    ]
    s_b = [float(np.float32(s_in * s)) for s in (s_w if per_channel else s_w * depth)]
    bias = rng.integers(-(1 << 14), 1 << 14, size=depth).astype(np.int32)
    options = dict(fused_activation_function=str(rng.choice(ACTIVATIONS)))

    def graph(s_out: float, zp_out: int) -> Graph:
        tensors = (
            _t("input", x.shape, scale=[s_in], zp=[zp_in]),
            _t("weights", (depth, accum), scale=s_w, zp=[0] * len(s_w), data=weights),
            _t("bias", [depth], "INT32", scale=s_b if per_channel else s_b[:1],
               zp=[0] * (depth if per_channel else 1), data=bias),
            _t("output", (n, depth), scale=[s_out], zp=[zp_out]),
        )  # fmt: skip
        return Graph(tensors, (Operator("FULLY_CONNECTED", (0, 1, 2), (3,), options),), (0,), (3,))

    draft = lower_graph(graph(1.0, 0)).layers[0]
    acc = fc_accumulators(x, draft.params, draft.arrays)
    real = acc * np.array(s_w if per_channel else s_w * depth) * s_in
    return x, graph(*_out_quant(rng, real, edge))


def _pool_case(rng, op: str, edge: bool):
    n = 2 if rng.random() < 0.1 else 1
    h, w = (1, 1) if edge and rng.random() < 0.3 else rng.integers(1, 13, size=2)
    c = int(rng.integers(1, 9))
    kh, kw = rng.integers(1, 5, size=2)
    sh, sw = rng.integers(1, 4, size=2)
    padding = str(rng.choice(["SAME", "VALID"]))
    if padding == "VALID":
        kh, kw = min(kh, h), min(kw, w)
    s, zp = _scale(rng), _zp(rng, edge)
    x = rng.integers(-128, 128, size=(n, h, w, c)).astype(np.int8)
    options = dict(
        padding=padding, stride_w=int(sw), stride_h=int(sh), filter_width=int(kw),
        filter_height=int(kh), fused_activation_function=str(rng.choice(ACTIVATIONS)),
    )  # fmt: skip

    def out(size, k, stride):
        return (size + stride - 1) // stride if padding == "SAME" else (size - k + stride) // stride

    shape = (n, out(h, kh, sh), out(w, kw, sw), c)
    tensors = (_t("input", x.shape, scale=[s], zp=[zp]), _t("output", shape, scale=[s], zp=[zp]))
    return x, Graph(tensors, (Operator(op, (0,), (1,), options),), (0,), (1,))


def _softmax_case(rng, edge: bool):
    rows, depth = int(rng.integers(1, 5)), int(rng.integers(1, 41))
    x = rng.integers(-128, 128, size=(rows, depth)).astype(np.int8)
    if edge and rng.random() < 0.5:
        x[:] = rng.integers(-128, 128)  # a flat row: every difference is 0
    s_in = float(np.float32(2.0 ** rng.uniform(-8, 0)))
    beta = float(rng.choice([1.0, 0.5, 2.0, float(np.float32(rng.uniform(0.1, 3)))]))
    tensors = (
        _t("input", x.shape, scale=[s_in], zp=[_zp(rng, edge)]),
        _t("output", x.shape, scale=[1 / 256], zp=[-128]),
    )
    op = Operator("SOFTMAX", (0,), (1,), dict(beta=beta))
    return x, Graph(tensors, (op,), (0,), (1,))


def make_case(function: str, rng: np.random.Generator, edge: bool = False) -> Case:
    if function in ("arm_convolve_wrapper_s8", "arm_depthwise_conv_wrapper_s8"):
        x, graph = _conv_case(rng, function == "arm_depthwise_conv_wrapper_s8", edge)
    elif function in ("arm_fully_connected_s8", "arm_fully_connected_per_channel_s8"):
        x, graph = _fc_case(rng, function == "arm_fully_connected_per_channel_s8", edge)
    elif function in ("arm_max_pool_s8", "arm_avgpool_s8"):
        op = "MAX_POOL_2D" if function == "arm_max_pool_s8" else "AVERAGE_POOL_2D"
        x, graph = _pool_case(rng, op, edge)
    elif function == "arm_softmax_s8":
        x, graph = _softmax_case(rng, edge)
    else:
        raise ValueError(function)
    layers = lower_graph(graph).layers
    assert layers[0].function == function, (layers[0].function, function)
    expected = tflm.run(graph, x)[0].reshape(-1)
    return Case(function, graph, x, layers, expected)


def cases(function: str, n: int, seed: int) -> list[Case]:
    """``n`` cases of ``function`` from ``seed`` (every fifth an edge case)."""
    rng = np.random.default_rng([seed, FUNCTIONS.index(function)])
    return [make_case(function, rng, edge=i % 5 == 4) for i in range(n)]
