"""Convolutions: basic, fast, RGB (square and non-square) and 1x1.

All six compute the same mathematics (FORMAT.md, "common requantisation");
they differ only in the parameter rules checked by validation.py. One
planner serves them: im2col through a strided window view and one exact
matrix product, for one image or a whole batch at once. Batches requantise
through plan_dot, in float32 where that is provably exact.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from hil.reference._core import (
    bias_term,
    dot_dtype,
    exact_matmul,
    plan_dot,
    requantise,
    window_view,
)
from hil.reference._kernel import Plan, batched, call, geometry


def plan_convolution(
    params: dict[str, int], weights: np.ndarray, bias: np.ndarray, variant: str = "dsp"
) -> Plan:
    g = geometry(params)
    cin, cout = g["ch_im_in"], g["ch_im_out"]
    ky, kx = g["dim_kernel_y"], g["dim_kernel_x"]
    k = ky * kx * cin
    dtype = dot_dtype(k, int(np.abs(weights.astype(np.int16)).max(initial=0)))
    w_mat: np.ndarray = weights.reshape(cout, k).T.astype(dtype)  # columns in [ky][kx][c] order
    offset = bias_term(bias, g["bias_shift"], g["out_shift"])
    out_shift = g["out_shift"]
    fast_dot = plan_dot(weights.reshape(cout, k), bias, g["bias_shift"], out_shift)
    shape = (
        g["dim_im_in_y"],
        g["dim_im_in_x"],
        cin,
        ky,
        kx,
        g["padding_y"],
        g["padding_x"],
        g["stride_y"],
        g["stride_x"],
        g["dim_im_out_y"],
        g["dim_im_out_x"],
    )
    pixels = g["dim_im_out_y"] * g["dim_im_out_x"]

    def dot(cols: np.ndarray) -> np.ndarray:
        return requantise(exact_matmul(cols, w_mat, dtype) + offset, out_shift)

    def run(x: np.ndarray, dot=dot) -> np.ndarray:
        n = x.shape[0]
        cols = window_view(x, *shape, dtype=dtype).reshape(n * pixels, k)
        return dot(cols).reshape(n, -1)

    # One image keeps the int64 route the conformance tests probe; batches
    # take plan_dot's, float32 where provably exact (same results, faster).
    return batched(run, partial(run, dot=fast_dot))


def arm_convolve_HWC_q7_basic(
    *,
    Im_in,
    dim_im_in,
    ch_im_in,
    wt,
    ch_im_out,
    dim_kernel,
    padding,
    stride,
    bias,
    bias_shift,
    out_shift,
    dim_im_out,
):
    return call("arm_convolve_HWC_q7_basic", plan_convolution, locals())


def arm_convolve_HWC_q7_fast(
    *,
    Im_in,
    dim_im_in,
    ch_im_in,
    wt,
    ch_im_out,
    dim_kernel,
    padding,
    stride,
    bias,
    bias_shift,
    out_shift,
    dim_im_out,
):
    return call("arm_convolve_HWC_q7_fast", plan_convolution, locals())


def arm_convolve_HWC_q7_RGB(
    *,
    Im_in,
    dim_im_in,
    ch_im_in,
    wt,
    ch_im_out,
    dim_kernel,
    padding,
    stride,
    bias,
    bias_shift,
    out_shift,
    dim_im_out,
):
    return call("arm_convolve_HWC_q7_RGB", plan_convolution, locals())


def arm_convolve_HWC_q7_basic_nonsquare(
    *,
    Im_in,
    dim_im_in_x,
    dim_im_in_y,
    ch_im_in,
    wt,
    ch_im_out,
    dim_kernel_x,
    dim_kernel_y,
    padding_x,
    padding_y,
    stride_x,
    stride_y,
    bias,
    bias_shift,
    out_shift,
    dim_im_out_x,
    dim_im_out_y,
):
    return call("arm_convolve_HWC_q7_basic_nonsquare", plan_convolution, locals())


def arm_convolve_HWC_q7_fast_nonsquare(
    *,
    Im_in,
    dim_im_in_x,
    dim_im_in_y,
    ch_im_in,
    wt,
    ch_im_out,
    dim_kernel_x,
    dim_kernel_y,
    padding_x,
    padding_y,
    stride_x,
    stride_y,
    bias,
    bias_shift,
    out_shift,
    dim_im_out_x,
    dim_im_out_y,
):
    return call("arm_convolve_HWC_q7_fast_nonsquare", plan_convolution, locals())


def arm_convolve_1x1_HWC_q7_fast_nonsquare(
    *,
    Im_in,
    dim_im_in_x,
    dim_im_in_y,
    ch_im_in,
    wt,
    ch_im_out,
    dim_kernel_x,
    dim_kernel_y,
    padding_x,
    padding_y,
    stride_x,
    stride_y,
    bias,
    bias_shift,
    out_shift,
    dim_im_out_x,
    dim_im_out_y,
):
    return call("arm_convolve_1x1_HWC_q7_fast_nonsquare", plan_convolution, locals())


PLANNERS = {
    name: plan_convolution
    for name in (
        "arm_convolve_HWC_q7_basic",
        "arm_convolve_HWC_q7_fast",
        "arm_convolve_HWC_q7_RGB",
        "arm_convolve_HWC_q7_basic_nonsquare",
        "arm_convolve_HWC_q7_fast_nonsquare",
        "arm_convolve_1x1_HWC_q7_fast_nonsquare",
    )
}
