"""The s8 (int8) reference: numpy kernels bit-exact with TFLite Micro's reference.

``FUNCTIONS`` maps each CMSIS-NN s8 function name to its kernel and to the
scalar parameters and arrays it takes; :func:`run_layer` runs one layer and
:func:`run_network` every layer of an :class:`~hil.model.s8.S8Network`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from hil.model.s8 import S8Layer, S8Network
from hil.reference.s8.convolution import convolve, depthwise
from hil.reference.s8.fully_connected import fully_connected, fully_connected_per_channel
from hil.reference.s8.pooling import avg_pool, max_pool
from hil.reference.s8.requantize import ROUNDINGS, Rounding
from hil.reference.s8.softmax import softmax

Kernel = Callable[[np.ndarray, Mapping[str, int], Mapping[str, np.ndarray], Rounding], np.ndarray]

_CONV = (
    "input_n", "input_h", "input_w", "input_c", "filter_h", "filter_w",
    "output_h", "output_w", "output_c", "stride_h", "stride_w", "padding_h", "padding_w",
    "dilation_h", "dilation_w", "input_offset", "output_offset",
    "activation_min", "activation_max",
)  # fmt: skip
_FC = (
    "input_n", "accum_depth", "output_depth", "input_offset", "filter_offset",
    "output_offset", "activation_min", "activation_max",
)  # fmt: skip
_POOL = (
    "input_n", "input_h", "input_w", "input_c", "filter_h", "filter_w",
    "output_h", "output_w", "stride_h", "stride_w", "padding_h", "padding_w",
    "activation_min", "activation_max",
)  # fmt: skip
_PER_CHANNEL = ("weights", "bias", "multiplier", "shift")


Size = Callable[[Mapping[str, int]], int]


def _nhwc_in(p: Mapping[str, int]) -> int:
    return p["input_n"] * p["input_h"] * p["input_w"] * p["input_c"]


def _conv_out(p: Mapping[str, int]) -> int:
    return p["input_n"] * p["output_h"] * p["output_w"] * p["output_c"]


def _pool_out(p: Mapping[str, int]) -> int:
    return p["input_n"] * p["output_h"] * p["output_w"] * p["input_c"]


def _fc_in(p: Mapping[str, int]) -> int:
    return p["input_n"] * p["accum_depth"]


def _fc_out(p: Mapping[str, int]) -> int:
    return p["input_n"] * p["output_depth"]


def _rows(p: Mapping[str, int]) -> int:
    return p["num_rows"] * p["row_size"]


def _conv_weights(p: Mapping[str, int]) -> int:
    return p["output_c"] * p["filter_h"] * p["filter_w"] * p["input_c"]


def _dw_weights(p: Mapping[str, int]) -> int:
    return p["filter_h"] * p["filter_w"] * p["output_c"]


@dataclass(frozen=True)
class S8Function:
    name: str
    kernel: Kernel
    scalars: tuple[str, ...]
    arrays: tuple[str, ...]  # the arrays it reads, in C argument order
    input_size: Size
    output_size: Size
    weights_size: Size | None = None
    channels: Size | None = None  # the length of bias, multiplier and shift
    macs: Size = lambda p: 0  # multiply-accumulates (taps, for pooling) of one call

    def array_sizes(self, p: Mapping[str, int]) -> dict[str, int]:
        """Elements of each array: weights int8, the others int32."""
        sizes = {}
        for name in self.arrays:
            size = self.weights_size if name == "weights" else self.channels
            assert size is not None
            sizes[name] = size(p)
        return sizes


# fmt: off
# fmt: off
FUNCTIONS: dict[str, S8Function] = {
    f.name: f
    for f in (
        S8Function(
            "arm_convolve_wrapper_s8", convolve, _CONV, _PER_CHANNEL,
            _nhwc_in, _conv_out, _conv_weights, lambda p: p["output_c"],
            lambda p: _conv_out(p) * p["filter_h"] * p["filter_w"] * p["input_c"],
        ),
        S8Function(
            "arm_depthwise_conv_wrapper_s8", depthwise, (*_CONV, "ch_mult"), _PER_CHANNEL,
            _nhwc_in, _conv_out, _dw_weights, lambda p: p["output_c"],
            lambda p: _conv_out(p) * p["filter_h"] * p["filter_w"],
        ),
        S8Function(
            "arm_fully_connected_s8", fully_connected, (*_FC, "multiplier", "shift"),
            ("weights", "bias"), _fc_in, _fc_out,
            lambda p: p["output_depth"] * p["accum_depth"], lambda p: p["output_depth"],
            lambda p: _fc_out(p) * p["accum_depth"],
        ),
        S8Function(
            "arm_fully_connected_per_channel_s8", fully_connected_per_channel, _FC,
            _PER_CHANNEL, _fc_in, _fc_out,
            lambda p: p["output_depth"] * p["accum_depth"], lambda p: p["output_depth"],
            lambda p: _fc_out(p) * p["accum_depth"],
        ),
        S8Function(
            "arm_max_pool_s8", max_pool, _POOL, (), _nhwc_in, _pool_out,
            macs=lambda p: _pool_out(p) * p["filter_h"] * p["filter_w"],
        ),
        S8Function(
            "arm_avgpool_s8", avg_pool, _POOL, (), _nhwc_in, _pool_out,
            macs=lambda p: _pool_out(p) * p["filter_h"] * p["filter_w"],
        ),
        S8Function(
            "arm_softmax_s8", softmax, ("num_rows", "row_size", "mult", "shift", "diff_min"),
            (), _rows, _rows, macs=_rows,
        ),
    )
}
# fmt: on
# fmt: on

__all__ = [
    "FUNCTIONS", "ROUNDINGS", "Rounding", "output_and_padding", "run_layer", "run_network",
    "run_network_batch",
]  # fmt: skip


def output_and_padding(
    padding: str, size: int, k: int, stride: int, dilation: int = 1
) -> tuple[int, int]:
    """(output size, top/left padding) of one axis as TFLM's ComputePaddingHeightWidth
    gives them for ``padding`` "SAME" or "VALID" (ValueError for any other)."""
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = (size + stride - 1) // stride
    elif padding == "VALID":
        out = (size + stride - eff) // stride
    else:
        raise ValueError(padding)
    return out, max((out - 1) * stride + eff - size, 0) // 2


def run_layer(layer: S8Layer, x: np.ndarray, rounding: Rounding = "double") -> np.ndarray:
    """One layer's int8 output (flat) for its int8 input."""
    f = FUNCTIONS[layer.function]
    return f.kernel(np.asarray(x, dtype=np.int8), layer.params, layer.arrays, rounding).reshape(-1)


def run_network(
    network: S8Network, x: np.ndarray, rounding: Rounding = "double"
) -> list[np.ndarray]:
    """Every layer's flat int8 output for one int8 input, in order."""
    outputs = []
    for layer in network.layers:
        x = run_layer(layer, x, rounding)
        outputs.append(x)
    return outputs


_BATCH_KEYS = ("input_n", "num_rows")  # the parameter that counts samples, per function


def _batched(layer: S8Layer, n: int) -> S8Layer:
    params = dict(layer.params)
    for key in _BATCH_KEYS:
        if key in params:
            params[key] *= n
    return S8Layer(layer.name, layer.function, params, layer.arrays)


def run_network_batch(
    network: S8Network, x: np.ndarray, rounding: Rounding = "double"
) -> list[np.ndarray]:
    """Every layer's int8 output, (N, layer output size), for int8 inputs (N, ...).

    One call per layer over the whole batch: every s8 function treats its
    samples (or softmax rows) independently, so this equals N single runs."""
    x = np.asarray(x, dtype=np.int8)
    n = len(x)
    outputs = []
    for layer in network.layers:
        x = run_layer(_batched(layer, n), x, rounding).reshape(n, -1)
        outputs.append(x)
    return outputs
