"""Kernel scratch of the s8 functions: what CMSIS-NN's ``*_get_buffer_size`` asks for.

The genuine library's answer depends on the core it is built for (plain C, the
DSP extension, Helium) and, for two rules, on the compiler (Arm Compiler 6 or
GCC). An export sizes each layer's ``ctx`` for the largest of all of them, so
one export runs on every core with either library; the rules are those of
firmware/nn/s8 (the *_get_buffer_size sources and hil_nn_s8_internal.h), which
a test keeps equal to the C functions.
"""

from __future__ import annotations

from collections.abc import Mapping

FORMS = ("plain", "dsp", "mve")  # the default build, *_dsp and *_mve
COMPILERS = ("gcc", "armclang")
_MVE_DW_CH_BLOCK = 124


def _div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _mod(a: int, b: int) -> int:
    return a - b * _div(a, b)


def _is_1x1(p: Mapping[str, int]) -> bool:
    return (
        p["padding_w"] == 0
        and p["padding_h"] == 0
        and p["filter_w"] == 1
        and p["filter_h"] == 1
        and p["dilation_w"] == 1
        and p["dilation_h"] == 1
        and p.get("filter_c", p["input_c"]) == p["input_c"]
    )


def _is_1_x_n(p: Mapping[str, int]) -> bool:
    return (
        p["input_h"] == 1
        and p["dilation_w"] == 1
        and p["filter_h"] == 1
        and (p["stride_w"] * p["input_c"]) % 4 == 0
        and p.get("filter_c", p["input_c"]) == p["input_c"]
    )


def _im2col(p: Mapping[str, int]) -> int:
    cols = p["filter_w"] * p["filter_h"] * p["input_c"]
    return 2 * ((cols + 3) // 4 * 4) * 2


def _im2col_mve(p: Mapping[str, int]) -> int:
    return 4 * ((p["input_c"] * p["filter_w"] * p["filter_h"] + 15) // 16) * 16


def _1x1_fast_dsp(p: Mapping[str, int], compiler: str) -> int:
    return 2 * p["input_c"] * 2 if compiler == "armclang" else 0


def _1_x_n_mve(p: Mapping[str, int]) -> int:
    stride, pad, c = p["stride_w"], p["padding_w"], p["input_c"]
    out_w, f_w = p["output_w"], p["filter_w"]
    asym = _mod((out_w - 1) * stride + f_w - p["input_w"], 2)
    right_n = max(1, _div(pad + asym + stride - 1, stride)) if pad + asym != 0 else 0
    left_n = max(1, _div(pad + stride - 1, stride)) if pad != 0 else 0
    middle_n = max(out_w - (right_n + left_n), 0)
    if right_n + middle_n + left_n != out_w:
        return _im2col_mve(p)
    left_pad = pad * c
    right_pad = right_n * c if asym else left_pad
    left_elems = f_w * c
    return max(left_elems + left_pad, left_elems - c + right_pad)


def conv_size(p: Mapping[str, int], form: str, compiler: str = "gcc") -> int:
    """arm_convolve_wrapper_s8_get_buffer_size{,_dsp,_mve}."""
    if form == "plain":
        return 0 if _is_1x1(p) else _im2col(p)
    if form == "dsp":
        if _is_1x1(p):
            unit = p["stride_w"] == 1 and p["stride_h"] == 1
            return _1x1_fast_dsp(p, compiler) if unit else 0
        return _im2col(p)
    if _is_1x1(p):
        return 0
    return _1_x_n_mve(p) if _is_1_x_n(p) else _im2col_mve(p)


def _dw_is_opt(p: Mapping[str, int]) -> bool:
    return (
        p["input_c"] == p["output_c"]
        and p["input_n"] == 1
        and p["dilation_w"] == 1
        and p["dilation_h"] == 1
    )


def depthwise_size(p: Mapping[str, int], form: str, compiler: str = "gcc") -> int:
    """arm_depthwise_conv_wrapper_s8_get_buffer_size{,_dsp,_mve}."""
    area = p["filter_w"] * p["filter_h"]
    if form == "plain":
        return 0
    if form == "dsp":
        is_3x3 = (
            p["filter_w"] == 3
            and p["filter_h"] == 3
            and p["padding_h"] <= 1
            and p["padding_w"] <= 1
        )
        return p["input_c"] * area * 2 if _dw_is_opt(p) and not is_3x3 else 0
    size = 4 * _MVE_DW_CH_BLOCK * area if _dw_is_opt(p) else 0
    above = 8 if compiler == "armclang" else 1
    if p["input_c"] == 1 and p["output_c"] > above:
        # Run as a regular convolution of output_c filters over one channel, plus a
        # transposed copy of the filter.
        conv = dict(p, filter_c=1)
        size = max(size, conv_size(conv, "mve", compiler) + p["output_c"] * area)
    return size


def fully_connected_size(p: Mapping[str, int], form: str, compiler: str = "gcc") -> int:
    """arm_fully_connected_s8_get_buffer_size{,_dsp,_mve}: Helium's kernel sums."""
    return p["output_depth"] * 4 if form == "mve" else 0


def avgpool_size(p: Mapping[str, int], form: str, compiler: str = "gcc") -> int:
    """arm_avgpool_s8_get_buffer_size{,_dsp,_mve}."""
    return p["input_c"] * 4 if form == "dsp" else 0


_SIZES = {
    "arm_convolve_wrapper_s8": conv_size,
    "arm_depthwise_conv_wrapper_s8": depthwise_size,
    "arm_fully_connected_s8": fully_connected_size,
    "arm_fully_connected_per_channel_s8": fully_connected_size,
    "arm_avgpool_s8": avgpool_size,
}


def buffer_size(function: str, p: Mapping[str, int], form: str, compiler: str = "gcc") -> int:
    """Bytes of ctx->buf ``function`` asks for on one target (0: none)."""
    size = _SIZES.get(function)
    return size(p, form, compiler) if size else 0


def buffer_bound(function: str, p: Mapping[str, int]) -> int:
    """The largest ctx->buf ``function`` asks for on any core with any compiler."""
    return max(buffer_size(function, p, f, c) for f in FORMS for c in COMPILERS)
