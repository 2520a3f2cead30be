"""s8 softmax as TFLM's reference integer Softmax (gemmlowp fixed point).

Input differences are rescaled to Q5.26, exponentiated with gemmlowp's
``exp_on_negative_values``, summed in Q12.19 and divided through
``one_over_one_plus_x_for_x_in_0_1``; the output has zero point -128 and
scale 1/256. Single rounding leaves softmax as it is (CMSIS-NN's
``CMSIS_NN_USE_SINGLE_ROUNDING`` changes only the requantisation of conv,
depthwise and fully connected).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from hil.reference.s8.requantize import (
    INT32_MAX,
    Rounding,
    quantize_multiplier,
    rdbypot,
    saturating_shift_left,
    srdhm,
    wrap32,
)

SCALED_DIFF_INTEGER_BITS = 5
ACCUMULATION_INTEGER_BITS = 12


def softmax_parameters(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(mult, shift, diff_min) as TFLM's PreprocessSoftmaxScaling and
    CalculateInputRadius compute them for an int8 input."""
    real = min(beta * input_scale * (1 << (31 - SCALED_DIFF_INTEGER_BITS)), float(INT32_MAX))
    mult, shift = quantize_multiplier(real)
    radius = (
        ((1 << SCALED_DIFF_INTEGER_BITS) - 1)
        * (1 << (31 - SCALED_DIFF_INTEGER_BITS))
        / (1 << shift)
    )
    return mult, shift, -math.floor(radius)


def _exp_on_interval(a: np.ndarray) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), Q0.31, by a Taylor series around -1/8."""
    x = a + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbypot(x4, 2)
    poly = rdbypot(srdhm(x4_over_4 + x3, 715827883) + x2, 1)
    return 1895147668 + srdhm(np.int64(1895147668), x + poly)


_BARREL = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)


def exp_on_negative_values(a: np.ndarray) -> np.ndarray:
    """gemmlowp exp_on_negative_values: Q5.26 in (<= 0), Q0.31 out."""
    quarter = 1 << 24
    a_mod = (a & (quarter - 1)) - quarter
    result = _exp_on_interval(saturating_shift_left(a_mod, SCALED_DIFF_INTEGER_BITS))
    remainder = a_mod - a
    for bit, multiplier in enumerate(_BARREL, start=24):
        result = np.where(remainder & (1 << bit), srdhm(result, multiplier), result)
    return np.where(a == 0, INT32_MAX, result)


def _one_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 in, Q0.31 out (Newton-Raphson)."""
    total = a + INT32_MAX
    half = np.where(total >= 0, (total + 1) // 2, -((-(total - 1)) // 2))  # (sum +- 1) / 2, C
    x = 1515870810 + srdhm(half, -1010580540)
    for _ in range(3):
        x = x + saturating_shift_left(srdhm(x, (1 << 29) - srdhm(half, x)), 2)
    return saturating_shift_left(x, 1)


def _leading_zeros(v: np.ndarray) -> np.ndarray:
    """Count leading zeros of uint32 values held in int64 (32 for 0)."""
    v = v & 0xFFFFFFFF
    bits = np.zeros(v.shape, dtype=np.int64)
    for width in (16, 8, 4, 2, 1):
        small = v < (np.int64(1) << (32 - width))
        bits = np.where(small, bits + width, bits)
        v = np.where(small, v << width, v)
    return np.where((v & 0xFFFFFFFF) == 0, 32, bits)


def softmax(
    x: np.ndarray, p: Mapping[str, int], arrays: Mapping[str, np.ndarray], rounding: Rounding
) -> np.ndarray:
    """arm_softmax_s8 over ``num_rows`` rows of ``row_size``."""
    rows = x.astype(np.int64).reshape(p["num_rows"], p["row_size"])
    diff = rows - rows.max(axis=1, keepdims=True)
    used = diff >= p["diff_min"]
    scaled = srdhm(wrap32(diff << p["shift"]), p["mult"])  # the same in both roundings
    exps = exp_on_negative_values(scaled)
    terms = np.where(used, rdbypot(exps, ACCUMULATION_INTEGER_BITS), 0)
    sums = wrap32(terms.sum(axis=1, keepdims=True))
    headroom = _leading_zeros(sums)
    shifted = wrap32(((sums << headroom) & 0xFFFFFFFF) - (1 << 31))
    scale = _one_over_one_plus_x(shifted)
    exponent = ACCUMULATION_INTEGER_BITS - headroom + 31 - 8
    out = rdbypot(srdhm(scale, exps), exponent) - 128
    return np.where(used, np.clip(out, -128, 127), -128).astype(np.int8)
