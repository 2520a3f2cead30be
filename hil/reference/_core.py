"""Integer building blocks shared by the kernels: exact products and requantisation.

Exactness of the float products: every product of two int8 values has
magnitude <= 128·128 = 2^14, so every partial sum of a dot product of length
K has magnitude <= K·max|w|·128 whatever order BLAS adds in. Integers up to
2^24 are exact in float32 and up to 2^53 in float64, and a sum of two exact
integers below that bound is again exact. So a float32 product is exact when
K·max|w|·128 <= 2^24, a float64 product when it is <= 2^53; past that we use
numpy's int64 product. Bias, rounding and the 32-bit wrap are applied in
int64 afterwards, except in plan_dot's float32 route, which is taken only
when the whole accumulator (bias and rounding included) stays within 2^24:
then every step is exact in float32 and the wrap cannot happen.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

F32_EXACT = 1 << 24
F64_EXACT = 1 << 53


def dot_dtype(k: int, max_abs_w: int = 128) -> type:
    """Narrowest dtype whose matrix product of int8 data is exact (see above)."""
    bound = k * max(max_abs_w, 1) * 128
    if bound <= F32_EXACT:
        return np.float32
    if bound <= F64_EXACT:
        return np.float64
    return np.int64


# OpenBLAS hands a product to all its threads once m·n·k exceeds 4·65536. Our
# products are small, and on a busy 2-core machine those threads thrash (a
# 0.06 ms product took 14 ms); row blocks under the threshold stay on one
# thread. Results are identical either way: the sums are exact.
_SINGLE_THREAD_MNK = 4 * 65536


def _matmul(a: np.ndarray, b: np.ndarray, dtype: type) -> np.ndarray:
    """a @ b in ``dtype``, in single-threaded row blocks (see _SINGLE_THREAD_MNK)."""
    a = a.astype(dtype, copy=False)
    b = b.astype(dtype, copy=False)
    rows = max(1, _SINGLE_THREAD_MNK // max(1, a.shape[1] * b.shape[1]))
    if a.shape[0] <= rows:
        return a @ b
    out: np.ndarray = np.empty((a.shape[0], b.shape[1]), dtype=dtype)
    for i in range(0, a.shape[0], rows):
        np.matmul(a[i : i + rows], b, out=out[i : i + rows])
    return out


def exact_matmul(a: np.ndarray, b: np.ndarray, dtype: type) -> np.ndarray:
    """a @ b of integer-valued matrices, returned as int64."""
    if dtype is np.int64:
        return a.astype(np.int64) @ b.astype(np.int64)
    return _matmul(a, b, dtype).astype(np.int64)


def bias_term(bias: np.ndarray, bias_shift: int, out_shift: int) -> np.ndarray:
    """(int32)bias << bias_shift plus the rounding constant R = (1 << out_shift) >> 1."""
    return (bias.astype(np.int64) << bias_shift) + ((1 << out_shift) >> 1)


def requantise(acc: np.ndarray, out_shift: int) -> np.ndarray:
    """Wrap to int32 as the silicon does, arithmetic-shift, saturate to int8."""
    wrapped = ((acc + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return np.clip(wrapped >> out_shift, -128, 127).astype(np.int8)


def plan_dot(
    weights: np.ndarray, bias: np.ndarray, bias_shift: int, out_shift: int
) -> Callable[[np.ndarray], np.ndarray]:
    """The common requantisation of ``rows @ weights.T`` (FORMAT.md), planned once.

    ``weights`` is (outputs, K) int8 and ``bias`` has one int8 per output.
    Returns ``run(rows (M, K)) -> int8 (M, outputs)``; the rows may be of any
    dtype holding the int8 values exactly, ideally dot_dtype's. When every accumulator, bias and rounding constant
    included, provably stays within 2^24 (see the module docstring), the
    whole requantisation runs in float32: no value is inexact, none can
    reach the int32 wrap, and floor(acc · 2^-out_shift) is the arithmetic
    shift. That is several times cheaper than the int64 path, which handles
    every other case.
    """
    k = weights.shape[1]
    max_abs_w = int(np.abs(weights.astype(np.int16)).max(initial=0))
    dtype = dot_dtype(k, max_abs_w)
    w_mat: np.ndarray = weights.T.astype(dtype)
    offset = bias_term(bias, bias_shift, out_shift)
    bound = k * max(max_abs_w, 1) * 128 + int(np.abs(offset).max(initial=0))
    if dtype is np.float32 and bound <= F32_EXACT:
        offset_f32 = offset.astype(np.float32)
        scale = np.float32(2.0**-out_shift)

        def run_float(rows: np.ndarray) -> np.ndarray:
            acc = _matmul(rows, w_mat, np.float32)
            acc += offset_f32
            acc *= scale
            np.floor(acc, out=acc)
            np.clip(acc, -128, 127, out=acc)
            return acc.astype(np.int8)

        return run_float

    def run_int(rows: np.ndarray) -> np.ndarray:
        return requantise(exact_matmul(rows, w_mat, dtype) + offset, out_shift)

    return run_int


def trunc_div(total: np.ndarray, count: np.ndarray | int) -> np.ndarray:
    """C integer division (truncation toward zero) of integer arrays."""
    q = np.abs(total) // count
    return np.where(total < 0, -q, q)


def flat_int8(arr: np.ndarray) -> np.ndarray:
    """A flat C-order view (or copy) of an int8 array; never the caller's buffer to write."""
    return np.ascontiguousarray(arr).reshape(-1)


def window_view(
    x: np.ndarray,
    dim_y: int,
    dim_x: int,
    ch: int,
    k_y: int,
    k_x: int,
    pad_y: int,
    pad_x: int,
    s_y: int,
    s_x: int,
    out_y: int,
    out_x: int,
    dtype: type,
) -> np.ndarray:
    """Every output pixel's receptive field, shape (N, out_y, out_x, k_y, k_x, ch).

    ``x`` is a batch of N flat HWC images, shape (N, dim_y·dim_x·ch). The
    images are copied (as ``dtype``) into zero frames large enough for the
    requested output size, so padding and windows past the image read zeros,
    exactly as the C kernels treat out-of-bounds taps. The result is a
    strided view: reshaping it to (N·pixels, k_y·k_x·ch) builds im2col
    columns in the weights' [ky][kx][c] order without a Python loop.
    """
    n = x.shape[0]
    rows = max(pad_y + dim_y, (out_y - 1) * s_y + k_y)
    cols = max(pad_x + dim_x, (out_x - 1) * s_x + k_x)
    frame: np.ndarray = np.zeros((n, rows, cols, ch), dtype=dtype)
    frame[:, pad_y : pad_y + dim_y, pad_x : pad_x + dim_x] = x.reshape(n, dim_y, dim_x, ch)
    b, r, c, e = frame.strides
    return np.lib.stride_tricks.as_strided(
        frame,
        shape=(n, out_y, out_x, k_y, k_x, ch),
        strides=(b, s_y * r, s_x * c, r, c, e),
        writeable=False,
    )
