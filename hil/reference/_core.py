"""Integer building blocks shared by the kernels: exact products and requantisation.

Exactness of the float products: every product of two int8 values has
magnitude <= 128·128 = 2^14, so every partial sum of a dot product of length
K has magnitude <= K·max|w|·128 whatever order BLAS adds in. Integers up to
2^24 are exact in float32 and up to 2^53 in float64, and a sum of two exact
integers below that bound is again exact. So a float32 product is exact when
K·max|w|·128 <= 2^24, a float64 product when it is <= 2^53; past that we use
numpy's int64 product. Bias, rounding and the 32-bit wrap are applied in
int64 afterwards, never in float.
"""

from __future__ import annotations

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


def exact_matmul(a: np.ndarray, b: np.ndarray, dtype: type) -> np.ndarray:
    """a @ b of integer-valued matrices, returned as int64."""
    if dtype is np.int64:
        return a.astype(np.int64) @ b.astype(np.int64)
    a = a.astype(dtype, copy=False)
    b = b.astype(dtype, copy=False)
    rows = max(1, _SINGLE_THREAD_MNK // max(1, a.shape[1] * b.shape[1]))
    if a.shape[0] <= rows:
        return (a @ b).astype(np.int64)
    out: np.ndarray = np.empty((a.shape[0], b.shape[1]), dtype=dtype)
    for i in range(0, a.shape[0], rows):
        np.matmul(a[i : i + rows], b, out=out[i : i + rows])
    return out.astype(np.int64)


def bias_term(bias: np.ndarray, bias_shift: int, out_shift: int) -> np.ndarray:
    """(int32)bias << bias_shift plus the rounding constant R = (1 << out_shift) >> 1."""
    return (bias.astype(np.int64) << bias_shift) + ((1 << out_shift) >> 1)


def requantise(acc: np.ndarray, out_shift: int) -> np.ndarray:
    """Wrap to int32 as the silicon does, arithmetic-shift, saturate to int8."""
    wrapped = ((acc + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return np.clip(wrapped >> out_shift, -128, 127).astype(np.int8)


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
    """Every output pixel's receptive field, shape (out_y, out_x, k_y, k_x, ch).

    The image is copied (as ``dtype``) into a zero frame large enough for the
    requested output size, so padding and windows past the image read zeros,
    exactly as the C kernels treat out-of-bounds taps. The result is a
    strided view: reshaping it to (pixels, k_y·k_x·ch) builds im2col columns
    in the weights' [ky][kx][c] order without a Python loop.
    """
    rows = max(pad_y + dim_y, (out_y - 1) * s_y + k_y)
    cols = max(pad_x + dim_x, (out_x - 1) * s_x + k_x)
    frame: np.ndarray = np.zeros((rows, cols, ch), dtype=dtype)
    frame[pad_y : pad_y + dim_y, pad_x : pad_x + dim_x] = x.reshape(dim_y, dim_x, ch)
    r, c, e = frame.strides
    return np.lib.stride_tricks.as_strided(
        frame,
        shape=(out_y, out_x, k_y, k_x, ch),
        strides=(s_y * r, s_x * c, r, c, e),
        writeable=False,
    )
