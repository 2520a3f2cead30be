"""s8 convolution and depthwise convolution, as TFLM's reference integer_ops.

Taps that fall in the padding contribute nothing: the input is offset first
(``x + input_offset``) and then padded with zeros, which is the same sum.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hil.reference.s8.requantize import Rounding, multiply_by_quantized_multiplier, wrap32


def _padded(x: np.ndarray, p: Mapping[str, int]) -> np.ndarray:
    """The offset NHWC input, zero-padded to cover every output's receptive field."""
    xo = x.astype(np.int64).reshape(p["input_n"], p["input_h"], p["input_w"], p["input_c"])
    xo = xo + p["input_offset"]
    need_h = (p["output_h"] - 1) * p["stride_h"] + (p["filter_h"] - 1) * p["dilation_h"] + 1
    need_w = (p["output_w"] - 1) * p["stride_w"] + (p["filter_w"] - 1) * p["dilation_w"] + 1
    bottom = max(0, need_h - p["padding_h"] - p["input_h"])
    right = max(0, need_w - p["padding_w"] - p["input_w"])
    pad = ((0, 0), (p["padding_h"], bottom), (p["padding_w"], right), (0, 0))
    return np.pad(xo, pad)


def _tap(xp: np.ndarray, p: Mapping[str, int], kh: int, kw: int) -> np.ndarray:
    """The padded input seen by filter tap (kh, kw) at every output position."""
    y0, x0 = kh * p["dilation_h"], kw * p["dilation_w"]
    return xp[
        :,
        y0 : y0 + (p["output_h"] - 1) * p["stride_h"] + 1 : p["stride_h"],
        x0 : x0 + (p["output_w"] - 1) * p["stride_w"] + 1 : p["stride_w"],
        :,
    ]


def _requantise(
    acc: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray], rounding: Rounding
) -> np.ndarray:
    acc = wrap32(acc + arrays["bias"].astype(np.int64))  # TFLM accumulates in int32
    out = multiply_by_quantized_multiplier(
        acc, arrays["multiplier"].astype(np.int64), arrays["shift"].astype(np.int64), rounding
    )
    out = out + p["output_offset"]
    return np.clip(out, p["activation_min"], p["activation_max"]).astype(np.int8)


def conv_accumulators(
    x: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray]
) -> np.ndarray:
    """The int32 sums before requantisation, NHWC (bias not yet added)."""
    xp = _padded(x, p)
    w = (
        arrays["weights"]
        .astype(np.int64)
        .reshape(p["output_c"], p["filter_h"], p["filter_w"], p["input_c"])
    )
    acc = np.zeros((p["input_n"], p["output_h"], p["output_w"], p["output_c"]), np.int64)
    for kh in range(p["filter_h"]):
        for kw in range(p["filter_w"]):
            acc += np.tensordot(_tap(xp, p, kh, kw), w[:, kh, kw, :], axes=([3], [1]))
    return acc


def convolve(
    x: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray], rounding: Rounding
) -> np.ndarray:
    """arm_convolve_wrapper_s8 / TFLM ConvPerChannel: NHWC in, NHWC out."""
    return _requantise(conv_accumulators(x, p, arrays), p, arrays, rounding)


def depthwise_accumulators(
    x: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray]
) -> np.ndarray:
    """The int32 sums before requantisation; output channel ``c * ch_mult + m``
    reads input channel ``c``."""
    xp = np.repeat(_padded(x, p), p["ch_mult"], axis=3)
    w = arrays["weights"].astype(np.int64).reshape(p["filter_h"], p["filter_w"], p["output_c"])
    acc = np.zeros((p["input_n"], p["output_h"], p["output_w"], p["output_c"]), np.int64)
    for kh in range(p["filter_h"]):
        for kw in range(p["filter_w"]):
            acc += _tap(xp, p, kh, kw) * w[kh, kw]
    return acc


def depthwise(
    x: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray], rounding: Rounding
) -> np.ndarray:
    """arm_depthwise_conv_wrapper_s8 / TFLM DepthwiseConvPerChannel."""
    return _requantise(depthwise_accumulators(x, p, arrays), p, arrays, rounding)
