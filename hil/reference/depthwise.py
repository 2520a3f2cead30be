"""Depthwise convolutions (channel multiplier 1), square and non-square.

Weights are channel-last [ky][kx][c]. Each output channel sums its own taps;
int64 products and sums are exact, so no bound is needed.
"""

from __future__ import annotations

import numpy as np

from hil.reference._core import bias_term, requantise, window_view
from hil.reference._kernel import Plan, batched, call, geometry


def plan_depthwise(
    params: dict[str, int], weights: np.ndarray, bias: np.ndarray, variant: str = "dsp"
) -> Plan:
    g = geometry(params)
    ch, ky, kx = g["ch_im_in"], g["dim_kernel_y"], g["dim_kernel_x"]
    w = weights.reshape(ky * kx, ch).astype(np.int64)
    offset = bias_term(bias, g["bias_shift"], g["out_shift"])
    out_shift = g["out_shift"]
    shape = (
        g["dim_im_in_y"],
        g["dim_im_in_x"],
        ch,
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

    def run(x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        taps = window_view(x, *shape, dtype=np.int64).reshape(n, pixels, ky * kx, ch)
        acc = np.einsum("nptc,tc->npc", taps, w) + offset
        return requantise(acc, out_shift).reshape(n, -1)

    return batched(run)


def arm_depthwise_separable_conv_HWC_q7(
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
    return call("arm_depthwise_separable_conv_HWC_q7", plan_depthwise, locals())


def arm_depthwise_separable_conv_HWC_q7_nonsquare(
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
    return call("arm_depthwise_separable_conv_HWC_q7_nonsquare", plan_depthwise, locals())


PLANNERS = {
    name: plan_depthwise
    for name in (
        "arm_depthwise_separable_conv_HWC_q7",
        "arm_depthwise_separable_conv_HWC_q7_nonsquare",
    )
}
