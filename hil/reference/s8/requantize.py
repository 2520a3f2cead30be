"""TFLite Micro's integer requantisation, vectorised over int64 numpy arrays.

Every function here takes and returns int64 arrays holding int32 values and
mirrors one routine of TFLM's ``common.h`` / gemmlowp's fixed point, so the
s8 reference rounds exactly as the interpreter does. The only floating point
is in :func:`quantize_multiplier`, on the model's scales, as TFLM does it:
``frexp`` is exact, and ``q * 2**31`` is an exact power-of-two scaling of a
double below 1, so the one rounding (half away from zero) sees the same value
TFLM's ``std::round`` sees.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

Rounding = Literal["double", "single"]
ROUNDINGS: tuple[Rounding, ...] = ("double", "single")
Ints = np.ndarray | np.integer | int  # int32 values, one or many

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def wrap32(x: np.ndarray) -> np.ndarray:
    """int64 -> the int32 two's-complement value C's int32 arithmetic leaves."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def round_half_away(x: float) -> int:
    """TfLiteRound / std::round on a double."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLM's QuantizeMultiplier: ``real ~= m * 2**(shift - 31)``, m in [2**30, 2**31).

    Both rounding variants run on the same (double-rounding) parameters, as
    TFLM's default build prepares them."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    fixed = round_half_away(q * (1 << 31))
    if fixed == 1 << 31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return fixed, shift


def _shift_right_toward_zero(x: np.ndarray, bits: int) -> np.ndarray:
    return np.where(x >= 0, x >> bits, -((-x) >> bits))


def srdhm(a: Ints, b: Ints) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul: round(a * b / 2**31), ties away from zero."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    out = _shift_right_toward_zero(ab + nudge, 31)
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, out)


def rdbypot(x: Ints, exponent: Ints) -> np.ndarray:
    """RoundingDivideByPOT: x / 2**exponent, ties away from zero."""
    x = np.asarray(x, dtype=np.int64)
    e = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


def saturating_shift_left(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingMultiplyByPOT for a positive exponent."""
    threshold = (1 << (31 - exponent)) - 1
    return np.where(
        x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, wrap32(x << exponent))
    )


def multiply_by_quantized_multiplier(
    x: Ints,
    multiplier: Ints,
    shift: Ints,
    rounding: Rounding = "double",
) -> np.ndarray:
    """TFLM's MultiplyByQuantizedMultiplier (CMSIS-NN's arm_nn_requantize)."""
    x = np.asarray(x, dtype=np.int64)
    m = np.asarray(multiplier, dtype=np.int64)
    s = np.asarray(shift, dtype=np.int64)
    if rounding == "single":
        total = 31 - s
        return (x * m + (np.int64(1) << (total - 1))) >> total
    left = np.maximum(s, 0)
    right = np.maximum(-s, 0)
    return rdbypot(srdhm(wrap32(x << left), m), right)


def activation_range(
    activation: str, scale: float, zero_point: int, qmin: int = -128, qmax: int = 127
) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for a fused activation, by name."""

    def quantise(value: float) -> int:
        # TFLM: TfLiteRound(f / scale) in float, then the zero point
        q = np.float32(value) / np.float32(scale)
        return zero_point + round_half_away(float(q))

    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, quantise(0.0)), qmax
    if activation == "RELU6":
        return max(qmin, quantise(0.0)), min(qmax, quantise(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, quantise(-1.0)), min(qmax, quantise(1.0))
    raise ValueError(f"fused activation {activation}")
