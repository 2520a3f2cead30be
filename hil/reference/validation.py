"""Parameter rules of the CMSIS-NN legacy q7 functions.

The C functions either return ARM_MATH_SIZE_MISMATCH, or silently read and
write out of bounds, when their arguments break these rules; the reference
refuses them instead, so a wrong argument is never a silent wrong answer.
Every error names the parameter and the rule.

Shift rules:

* ``out_shift`` 0..30: at 31 the C rounding constant ``1 << 31`` overflows.
* ``bias_shift`` 0..24: the C code computes ``(q31_t)bias << bias_shift``;
  for every int8 bias that stays inside int32 exactly when bias_shift <= 24
  (127·2^24 < 2^31 and -128·2^24 = -2^31). The accumulator itself may still
  wrap for extreme data; the reference wraps modulo 2^32 like the silicon.

Rules stricter than the C code, because the C result would be meaningless:
``padding < kernel`` on every axis (a window made only of padding), pooling
windows that all overlap the image with ``dim_im_out <= dim_im_in`` (the DSP
path reads its first column unconditionally and writes past its rows; the
plain path divides by zero), and activation ``type`` 0 or 1 (C treats any
other value as tanh).
"""

from __future__ import annotations

import operator
from typing import Callable, Mapping, SupportsIndex, cast

import numpy as np

from hil.errors import KernelParameterError
from hil.reference.spec import KERNEL_SPECS, KernelSpec

UINT16_MAX = 0xFFFF
OUT_SHIFT_MAX = 30
BIAS_SHIFT_MAX = 24
SOFTMAX_DIM_MAX = 32767  # the C loop index is int16
AVEPOOL_KERNEL_MAX = 255  # int16 window sums cannot saturate up to here
ACTIVATION_TYPES = {0: "ARM_SIGMOID", 1: "ARM_TANH"}

# Parameters whose valid range is far narrower than their uint16_t C type:
# (lowest, highest, why). Messages about them name this range.
NARROW_RANGES = {
    "out_shift": (0, OUT_SHIFT_MAX, "1 << 31 overflows in the C rounding"),
    "bias_shift": (0, BIAS_SHIFT_MAX, "bias << bias_shift must stay inside int32"),
    "int_width": (0, 3, "the input shift is 3 - int_width"),
    "type": (0, 1, "0 is ARM_SIGMOID, 1 is ARM_TANH"),
}


def _fail(function: str, param: str, rule: str, hint: str) -> KernelParameterError:
    return KernelParameterError(f"{function}: {param} {rule}", hint=hint)


def spec_of(function: str) -> KernelSpec:
    try:
        return KERNEL_SPECS[function]
    except KeyError:
        raise KernelParameterError(
            f"unknown CMSIS-NN function '{function}'", hint="use one of: " + ", ".join(KERNEL_SPECS)
        ) from None


def _as_int(function: str, name: str, value: object) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise _fail(function, name, f"= {value!r} is not an integer", "pass whole numbers")
    try:
        return operator.index(cast(SupportsIndex, value))  # int and numpy ints, not floats
    except TypeError:
        raise _fail(
            function, name, f"= {value!r} is not an integer", "pass whole numbers"
        ) from None


def _axes(p: Mapping[str, int]) -> list[tuple[str, str, str, str, str, str]]:
    """(dim_in, kernel, padding, stride, dim_out, axis label) names per spatial axis."""
    if "dim_im_in" in p:
        return [("dim_im_in", "dim_kernel", "padding", "stride", "dim_im_out", "")]
    return [
        (f"dim_im_in_{a}", f"dim_kernel_{a}", f"padding_{a}", f"stride_{a}", f"dim_im_out_{a}", a)
        for a in ("x", "y")
    ]


def formula_out(dim_in: int, kernel: int, padding: int, stride: int) -> int:
    """Output size the network designer's formula gives (floor division)."""
    return (dim_in + 2 * padding - kernel) // stride + 1


def _require(
    function: str, p: Mapping[str, int], name: str, lo: int, hi: int, why: str = ""
) -> None:
    v = p[name]
    if not lo <= v <= hi:
        raise _fail(
            function,
            name,
            f"= {v} is outside {lo}..{hi}" + (f" ({why})" if why else ""),
            f"use a {name} in {lo}..{hi}",
        )


def _require_narrow(fn: str, p: Mapping[str, int], name: str) -> None:
    _require(fn, p, name, *NARROW_RANGES[name])


def _check_shifts(fn: str, p: Mapping[str, int]) -> None:
    _require_narrow(fn, p, "out_shift")
    _require_narrow(fn, p, "bias_shift")


def _check_geometry(fn: str, p: Mapping[str, int]) -> None:
    for d_in, k, pad, s, d_out, _ in _axes(p):
        for name in (d_in, k, s, d_out):
            _require(fn, p, name, 1, UINT16_MAX, "must be at least 1")
        if p[pad] >= p[k]:
            raise _fail(
                fn,
                pad,
                f"= {p[pad]} must be smaller than {k} = {p[k]}",
                "padding beyond kernel-1 only adds all-padding windows",
            )
    for name in ("ch_im_in", "ch_im_out"):
        if name in p:
            _require(fn, p, name, 1, UINT16_MAX, "must be at least 1")


def _check_fast(fn: str, p: Mapping[str, int]) -> None:
    """The _fast kernels assume interior windows and SIMD-friendly channels."""
    if p["ch_im_in"] % 4:
        raise _fail(
            fn,
            "ch_im_in",
            f"= {p['ch_im_in']} must be a multiple of 4",
            "use the _basic function for other channel counts",
        )
    if p["ch_im_out"] % 2:
        raise _fail(
            fn,
            "ch_im_out",
            f"= {p['ch_im_out']} must be a multiple of 2",
            "use the _basic function for other channel counts",
        )
    for d_in, k, pad, s, d_out, _ in _axes(p):
        limit = formula_out(p[d_in], p[k], p[pad], p[s])
        if p[d_out] > limit:
            raise _fail(
                fn,
                d_out,
                f"= {p[d_out]} exceeds ({d_in} + 2*{pad} - {k}) / {s} + 1 = {limit}",
                "the _fast kernels read past the image otherwise; use the _basic function",
            )
        if p[pad] > p[d_out]:
            raise _fail(
                fn,
                pad,
                f"= {p[pad]} must not exceed {d_out} = {p[d_out]}",
                "the _fast kernels assume padding <= output size",
            )


def _conv(fn: str, p: Mapping[str, int]) -> None:
    _check_geometry(fn, p)
    _check_shifts(fn, p)


def _conv_fast(fn: str, p: Mapping[str, int]) -> None:
    _conv(fn, p)
    _check_fast(fn, p)


def _conv_rgb(fn: str, p: Mapping[str, int]) -> None:
    _conv(fn, p)
    if p["ch_im_in"] != 3:
        raise _fail(
            fn,
            "ch_im_in",
            f"= {p['ch_im_in']} must be 3",
            "the RGB kernel only takes 3-channel input; use arm_convolve_HWC_q7_basic",
        )


def _conv_1x1(fn: str, p: Mapping[str, int]) -> None:
    for name, want in (
        ("dim_kernel_x", 1),
        ("dim_kernel_y", 1),
        ("padding_x", 0),
        ("padding_y", 0),
        ("stride_x", 1),
        ("stride_y", 1),
    ):
        if p[name] != want:
            raise _fail(
                fn,
                name,
                f"= {p[name]} must be {want}",
                "the 1x1 kernel needs a 1x1 kernel, no padding and unit strides",
            )
    _conv_fast(fn, p)


def _depthwise(fn: str, p: Mapping[str, int]) -> None:
    _conv(fn, p)
    if p["ch_im_out"] != p["ch_im_in"]:
        raise _fail(
            fn,
            "ch_im_out",
            f"= {p['ch_im_out']} must equal ch_im_in = {p['ch_im_in']}",
            "the depthwise kernel has a channel multiplier of 1",
        )


def _pool(fn: str, p: Mapping[str, int]) -> None:
    _check_geometry(fn, p)
    d_in, k, pad, s, d_out = (
        p[n] for n in ("dim_im_in", "dim_kernel", "padding", "stride", "dim_im_out")
    )
    if d_out > d_in:
        raise _fail(
            fn,
            "dim_im_out",
            f"= {d_out} must not exceed dim_im_in = {d_in}",
            "the in-place pooling writes past its rows otherwise",
        )
    # Every window must overlap the image: the DSP path reads its first column
    # unconditionally, and the plain path divides by the in-bounds count.
    if (d_out - 1) * s - pad >= d_in:
        raise _fail(
            fn,
            "dim_im_out",
            f"= {d_out}: the last window starts past the image",
            "use dim_im_out <= (dim_im_in + padding - 1) / stride + 1",
        )
    if fn == "arm_avepool_q7_HWC":
        _require(fn, p, "dim_kernel", 1, AVEPOOL_KERNEL_MAX, "int16 window sums")


def _fully_connected(fn: str, p: Mapping[str, int]) -> None:
    _require(fn, p, "dim_vec", 1, UINT16_MAX, "must be at least 1")
    _require(fn, p, "num_of_rows", 1, UINT16_MAX, "must be at least 1")
    _check_shifts(fn, p)


def _softmax(fn: str, p: Mapping[str, int]) -> None:
    _require(fn, p, "dim_vec", 1, SOFTMAX_DIM_MAX, "0 divides by zero; the C index is int16")


def _activation(fn: str, p: Mapping[str, int]) -> None:
    _require_narrow(fn, p, "int_width")
    if p["type"] not in ACTIVATION_TYPES:
        raise _fail(
            fn,
            "type",
            f"= {p['type']} is not an activation type",
            "use 0 (ARM_SIGMOID) or 1 (ARM_TANH)",
        )


def _no_rules(fn: str, p: Mapping[str, int]) -> None:
    return None


_RULES: dict[str, Callable[[str, Mapping[str, int]], None]] = {
    "arm_convolve_HWC_q7_basic": _conv,
    "arm_convolve_HWC_q7_fast": _conv_fast,
    "arm_convolve_HWC_q7_RGB": _conv_rgb,
    "arm_convolve_HWC_q7_basic_nonsquare": _conv,
    "arm_convolve_HWC_q7_fast_nonsquare": _conv_fast,
    "arm_convolve_1x1_HWC_q7_fast_nonsquare": _conv_1x1,
    "arm_depthwise_separable_conv_HWC_q7": _depthwise,
    "arm_depthwise_separable_conv_HWC_q7_nonsquare": _depthwise,
    "arm_relu_q7": _no_rules,
    "arm_maxpool_q7_HWC": _pool,
    "arm_avepool_q7_HWC": _pool,
    "arm_fully_connected_q7": _fully_connected,
    "arm_fully_connected_q7_opt": _fully_connected,
    "arm_softmax_q7": _softmax,
    "arm_nn_activations_direct_q7": _activation,
}


def normalize_params(function: str, params: Mapping[str, object]) -> dict[str, int]:
    """Exactly the function's scalar parameters, as Python ints in uint16 range."""
    spec = spec_of(function)
    missing = [n for n in spec.scalars if n not in params]
    if missing:
        raise _fail(
            function, ", ".join(missing), "missing", f"give all of: {', '.join(spec.scalars)}"
        )
    unknown = sorted(set(params) - set(spec.scalars))
    if unknown:
        raise _fail(
            function,
            ", ".join(unknown),
            "is not a scalar parameter of this function",
            f"its scalar parameters are: {', '.join(spec.scalars)}",
        )
    out = {n: _as_int(function, n, params[n]) for n in spec.scalars}
    for name, value in out.items():
        if name != "type" and not 0 <= value <= UINT16_MAX:
            if name in NARROW_RANGES:  # the same refusal, naming the range that applies
                lo, hi, why = NARROW_RANGES[name]
                raise _fail(
                    function,
                    name,
                    f"= {value} is outside {lo}..{hi} ({why})",
                    f"use a {name} in {lo}..{hi}",
                )
            raise _fail(
                function,
                name,
                f"= {value} is outside 0..{UINT16_MAX}",
                "the C parameter is a uint16_t",
            )
    return out


def validate_params(function: str, params: Mapping[str, int]) -> None:
    """Check the scalar parameters of one call; raise KernelParameterError."""
    p = normalize_params(function, params)
    _RULES[function](function, p)


def validate_arrays(
    function: str, params: Mapping[str, int], arrays: Mapping[str, np.ndarray]
) -> None:
    """Check dtype and size of the pointer parameters (input, weights, bias).

    ``params`` must already pass validate_params. Weights and bias are
    required when the function takes them; the input is checked when given
    (a model has no input array yet). Arrays may have any shape; their
    element count must match what the C function reads.
    """
    spec = spec_of(function)
    p = normalize_params(function, params)
    wanted: list[tuple[str, Callable[[Mapping[str, int]], int] | None]] = (
        [(spec.input, spec.input_size)] if spec.input in arrays else []
    )
    if spec.weights is not None:
        wanted.append((spec.weights, spec.weights_size))
    if spec.bias is not None:
        wanted.append((spec.bias, spec.bias_size))
    for name, size_of in wanted:
        if arrays.get(name) is None:
            raise _fail(function, name, "is missing", f"pass {name} as a flat int8 array")
        arr = arrays[name]
        if not isinstance(arr, np.ndarray):
            raise _fail(
                function,
                name,
                f"is a {type(arr).__name__}, not a numpy array",
                "pass np.asarray(..., dtype=np.int8)",
            )
        if arr.dtype != np.int8:
            raise _fail(
                function,
                name,
                f"has dtype {arr.dtype}, must be int8",
                "q7_t data is int8; convert with .astype(np.int8) only if the values fit",
            )
        assert size_of is not None  # every array the spec names has its size rule
        want = size_of(p)
        if arr.size != want:
            raise _fail(
                function,
                name,
                f"has {arr.size} elements, the parameters need {want}",
                "check the shape parameters against the array",
            )
