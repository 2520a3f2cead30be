"""s8 max and average pooling, as TFLM's reference: only in-bounds taps count."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hil.reference.s8.requantize import Rounding

_OUTSIDE = np.iinfo(np.int64).min  # a padded tap: never the max, masked out of sums


def _windows(x: np.ndarray, p: Mapping[str, int]):
    """Yield each filter tap's view of the padded input (outside: _OUTSIDE)."""
    x = x.astype(np.int64).reshape(p["input_n"], p["input_h"], p["input_w"], p["input_c"])
    need_h = (p["output_h"] - 1) * p["stride_h"] + p["filter_h"]
    need_w = (p["output_w"] - 1) * p["stride_w"] + p["filter_w"]
    bottom = max(0, need_h - p["padding_h"] - p["input_h"])
    right = max(0, need_w - p["padding_w"] - p["input_w"])
    pad = ((0, 0), (p["padding_h"], bottom), (p["padding_w"], right), (0, 0))
    xp = np.pad(x, pad, constant_values=_OUTSIDE)
    for kh in range(p["filter_h"]):
        for kw in range(p["filter_w"]):
            yield xp[
                :,
                kh : kh + (p["output_h"] - 1) * p["stride_h"] + 1 : p["stride_h"],
                kw : kw + (p["output_w"] - 1) * p["stride_w"] + 1 : p["stride_w"],
                :,
            ]


def _clamp(v: np.ndarray, p: Mapping[str, int]) -> np.ndarray:
    return np.clip(v, p["activation_min"], p["activation_max"]).astype(np.int8)


def max_pool(
    x: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray], rounding: Rounding
) -> np.ndarray:
    """arm_max_pool_s8."""
    return _clamp(np.maximum.reduce(list(_windows(x, p))), p)


def avg_pool(
    x: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray], rounding: Rounding
) -> np.ndarray:
    """arm_avgpool_s8: the sum over in-bounds taps divided by their count,
    rounded half away from zero as C's truncating division does it."""
    total: np.ndarray | np.int64 = np.int64(0)
    count: np.ndarray | np.int64 = np.int64(0)
    for tap in _windows(x, p):
        inside = tap != _OUTSIDE
        total = total + np.where(inside, tap, 0)
        count = count + inside
    half = count // 2
    avg = np.where(total > 0, total + half, total - half)
    quotient = np.where(avg >= 0, avg // count, -((-avg) // count))  # C truncates
    return _clamp(quotient, p)
