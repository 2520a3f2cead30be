"""s8 fully connected, per-tensor and per-channel, as TFLM's reference."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hil.reference.s8.requantize import Rounding, multiply_by_quantized_multiplier, wrap32


def fc_accumulators(
    x: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray]
) -> np.ndarray:
    """The int32 sums (bias included) before requantisation, [input_n, output_depth]."""
    xo = x.astype(np.int64).reshape(p["input_n"], p["accum_depth"]) + p["input_offset"]
    w = arrays["weights"].astype(np.int64).reshape(p["output_depth"], p["accum_depth"])
    acc = xo @ (w + p["filter_offset"]).T
    if "bias" in arrays:
        acc = acc + arrays["bias"].astype(np.int64)
    return wrap32(acc)


def _finish(out: np.ndarray, p: Mapping[str, int]) -> np.ndarray:
    out = out + p["output_offset"]
    return np.clip(out, p["activation_min"], p["activation_max"]).astype(np.int8)


def fully_connected(
    x: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray], rounding: Rounding
) -> np.ndarray:
    """arm_fully_connected_s8: one multiplier and shift for every output."""
    acc = fc_accumulators(x, p, arrays)
    return _finish(multiply_by_quantized_multiplier(acc, p["multiplier"], p["shift"], rounding), p)


def fully_connected_per_channel(
    x: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray], rounding: Rounding
) -> np.ndarray:
    """arm_fully_connected_per_channel_s8: a multiplier and shift per output."""
    acc = fc_accumulators(x, p, arrays)
    m = arrays["multiplier"].astype(np.int64)
    s = arrays["shift"].astype(np.int64)
    return _finish(multiply_by_quantized_multiplier(acc, m, s, rounding), p)
