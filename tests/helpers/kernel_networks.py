"""Two small networks that between them call every catalogued CMSIS-NN function,
with awkward geometry (odd sizes, padding, strides above 1, non-square kernels)
and seeded random weights. Each layer's out_shift is chosen with the host
reference so that its outputs neither saturate nor vanish: a test comparing
them then compares real numbers, not rails of 127.

Used by tests/firmware/test_export_module.py; ``quantised`` adds a
[quantisation] table with three NCHW channels, so the exported
quantize_input has a layout to transpose.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hil.model.examples import square_conv
from hil.model.layer import Layer, Network, Quantisation
from hil.model.validate import validate_network
from hil.reference.network import run_layer

TARGET = 100  # the 99th percentile of |output| lands at or just below this
MAX_OUT_SHIFT = 30


def _nonsquare(
    name: str,
    fn: str,
    dims: tuple[int, int],  # (x, y)
    ch_in: int,
    ch_out: int,
    kernel: tuple[int, int],
    pad: tuple[int, int],
    stride: tuple[int, int],
) -> Layer:
    params = dict(ch_im_in=ch_in, ch_im_out=ch_out, bias_shift=0, out_shift=0)
    for axis, d, k, p, s in zip("xy", dims, kernel, pad, stride):
        params.update(
            {
                f"dim_im_in_{axis}": d,
                f"dim_kernel_{axis}": k,
                f"padding_{axis}": p,
                f"stride_{axis}": s,
                f"dim_im_out_{axis}": (d + 2 * p - k) // s + 1,
            }
        )
    return Layer(name, fn, params)


def _pool(name: str, fn: str, dim: int, ch: int, k: int, pad: int, stride: int, out: int):
    params = dict(dim_im_in=dim, ch_im_in=ch, dim_kernel=k, padding=pad, stride=stride)
    return Layer(name, fn, dict(params, dim_im_out=out))


def _fc(name: str, fn: str, dim_vec: int, rows: int) -> Layer:
    return Layer(name, fn, dict(dim_vec=dim_vec, num_of_rows=rows, bias_shift=0, out_shift=0))


def _square_layers() -> tuple[tuple[int, ...], list[Layer]]:
    # 9x9x3 -> RGB s2 -> 5x5x8 -> fast -> 5x5x4 -> basic s2 -> 3x3x6 -> depthwise
    # -> 3x3x6 -> maxpool (padded) -> 2x2x6 -> avepool (padded) -> 2x2x6 -> fc ...
    return (9, 9, 3), [
        square_conv("rgb", "arm_convolve_HWC_q7_RGB", 9, 3, 8, 3, 1, 2),
        Layer("relu", "arm_relu_q7", {"size": 5 * 5 * 8}),
        square_conv("fast", "arm_convolve_HWC_q7_fast", 5, 8, 4, 3, 1, 1),
        square_conv("basic", "arm_convolve_HWC_q7_basic", 5, 4, 6, 2, 1, 2),
        square_conv("depthwise", "arm_depthwise_separable_conv_HWC_q7", 3, 6, 6, 3, 1, 1),
        _pool("maxpool", "arm_maxpool_q7_HWC", 3, 6, 2, 1, 2, 2),
        _pool("avepool", "arm_avepool_q7_HWC", 2, 6, 3, 1, 1, 2),
        _fc("fc", "arm_fully_connected_q7", 24, 9),
        Layer("tanh", "arm_nn_activations_direct_q7", {"size": 9, "int_width": 2, "type": 1}),
        Layer("softmax", "arm_softmax_q7", {"dim_vec": 9}),
    ]


def _nonsquare_layers() -> tuple[tuple[int, ...], list[Layer]]:
    # (y, x, c) = 6x8x4 -> basic_ns -> 5x4x8 -> fast_ns -> 5x4x4 -> 1x1 -> 5x4x6
    # -> depthwise_ns -> 3x3x6 -> relu -> fc_opt -> sigmoid -> softmax
    return (6, 8, 4), [
        _nonsquare(
            "basic_ns", "arm_convolve_HWC_q7_basic_nonsquare", (8, 6), 4, 8, (3, 2), (1, 0), (2, 1)
        ),
        _nonsquare(
            "fast_ns", "arm_convolve_HWC_q7_fast_nonsquare", (4, 5), 8, 4, (3, 3), (1, 1), (1, 1)
        ),
        _nonsquare(
            "pointwise",
            "arm_convolve_1x1_HWC_q7_fast_nonsquare",
            (4, 5),
            4,
            6,
            (1, 1),
            (0, 0),
            (1, 1),
        ),
        _nonsquare(
            "depthwise_ns",
            "arm_depthwise_separable_conv_HWC_q7_nonsquare",
            (4, 5),
            6,
            6,
            (2, 3),
            (0, 1),
            (1, 2),
        ),
        Layer("relu", "arm_relu_q7", {"size": 3 * 3 * 6}),
        _fc("fc_opt", "arm_fully_connected_q7_opt", 54, 7),
        Layer("sigmoid", "arm_nn_activations_direct_q7", {"size": 7, "int_width": 1, "type": 0}),
        Layer("softmax", "arm_softmax_q7", {"dim_vec": 7}),
    ]


ARCHITECTURES = {"square": _square_layers, "nonsquare": _nonsquare_layers}


def _with_arrays(layer: Layer, rng: np.random.Generator) -> Layer:
    spec = layer.spec
    if spec.weights is None:
        return layer
    weights = rng.integers(-128, 128, spec.weights_size(layer.params), dtype=np.int8)
    bias = rng.integers(-128, 128, spec.bias_size(layer.params), dtype=np.int8)
    return replace(layer, weights=weights, bias=bias)


def _with_shift(layer: Layer, shift: int) -> Layer:
    params = dict(layer.params, out_shift=shift, bias_shift=max(0, min(24, shift - 2)))
    return replace(layer, params=params)


def _calibrated(layer: Layer, xs: np.ndarray) -> Layer:
    """The smallest out_shift whose outputs stay at or below TARGET (99th percentile)."""
    for shift in range(MAX_OUT_SHIFT + 1):
        candidate = _with_shift(layer, shift)
        outs = np.stack([run_layer(candidate, x, "plain") for x in xs]).astype(np.int16)
        if np.percentile(np.abs(outs), 99) <= TARGET:
            return candidate
    return _with_shift(layer, MAX_OUT_SHIFT)


def kernel_network(kind: str, seed: int = 0) -> Network:
    """Network ``kind`` ("square" or "nonsquare") with seeded weights and calibrated shifts."""
    input_shape, layers = ARCHITECTURES[kind]()
    rng = np.random.default_rng([seed, len(kind)])
    xs = rng.integers(-128, 128, (8, int(np.prod(input_shape))), dtype=np.int8)
    built = []
    for layer in layers:
        layer = _with_arrays(layer, rng)
        if "out_shift" in layer.params:
            layer = _calibrated(layer, xs)
        xs = np.stack([run_layer(layer, x, "plain") for x in xs])
        built.append(layer)
    network = Network(f"kernels-{kind}", input_shape, tuple(built))
    validate_network(network)
    return network


def quantised(network: Network, input_frac_bits: int, out_frac_bits: int) -> Network:
    """``network`` with a [quantisation] table: float NCHW input, a Q format on its output."""
    h, w, c = network.input_shape
    q = Quantisation(input_frac_bits, "NCHW", (c, h, w), "minmax")
    last = replace(network.layers[-1], out_frac_bits=out_frac_bits)
    return replace(network, layers=(*network.layers[:-1], last), quantisation=q)
