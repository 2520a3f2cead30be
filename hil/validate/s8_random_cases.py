"""Seeded random cases of the s8 (int8) kernels, for device conformance.

``generate_s8_set(functions, n, seed, arena_bytes)`` draws ``n`` cases per
function: shapes (around the 4- and 16-lane tails), strides, SAME/VALID or
arbitrary padding, dilation, zero points as offsets, fused activation
ranges, per-channel weight scales turned into (multiplier, shift) by
hil.reference.s8.requantize.quantize_multiplier, and softmax parameters by
hil.reference.s8.softmax.softmax_parameters. Every fifth case (0, 5, 10, ...)
is an edge case: 1x1 inputs, extreme zero points, saturating or tiny scales,
a flat softmax row, large biases. The output scale is chosen from the
accumulators so outputs spread over int8 rather than saturate. Each function
draws from its own generator (seed, function index), so a case does not
depend on which other functions run; the same seed gives the same cases.
Every case fits the device's kernel arena with room for its scratch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from hil.errors import ConfigError
from hil.kernels.s8 import S8_FUNCTIONS, region_bytes
from hil.model.s8 import S8Layer
from hil.reference.s8 import output_and_padding
from hil.reference.s8.convolution import conv_accumulators, depthwise_accumulators
from hil.reference.s8.fully_connected import fc_accumulators
from hil.reference.s8.requantize import quantize_multiplier
from hil.reference.s8.softmax import softmax_parameters

EDGE_EVERY = 5  # case k is an edge case when k % EDGE_EVERY == 0
ARENA_SHARE = 0.5  # regions may take this share of the arena; the rest is for scratch and pads
_MAX_TRIES = 200
_CHANNELS = (1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17)


@dataclass(frozen=True)
class S8Case:
    case_id: str
    function: str
    params: dict[str, int]
    arrays: dict[str, np.ndarray]  # weights int8; bias, multiplier, shift int32
    x: np.ndarray  # the int8 input, flat
    edge: bool = False

    @property
    def layer(self) -> S8Layer:
        return S8Layer(self.case_id, self.function, self.params, self.arrays)

    def describe(self) -> str:
        """The case's parameters, for a failure message."""
        return ", ".join(f"{k}={v}" for k, v in self.params.items())


def select_s8_functions(only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[str]:
    only, skip = list(only), set(skip)
    for name in [*only, *skip]:
        if name not in S8_FUNCTIONS:
            raise ConfigError(
                f"{name} is not an s8 function", hint=f"use one of: {', '.join(S8_FUNCTIONS)}"
            )
    return [f for f in S8_FUNCTIONS if (not only or f in only) and f not in skip]


def generate_s8_cases(function: str, count: int, seed: int, arena_bytes: int) -> list[S8Case]:
    """``count`` cases of ``function`` (case 0, 5, 10, ... edge cases)."""
    rng = np.random.default_rng([seed, S8_FUNCTIONS.index(function)])
    budget = int(arena_bytes * ARENA_SHARE)
    return [
        _draw(function, f"{function}-s{seed}-{k:04d}", rng, k % EDGE_EVERY == 0, budget)
        for k in range(count)
    ]


def generate_s8_set(
    functions: Sequence[str], count: int, seed: int, arena_bytes: int
) -> dict[str, list[S8Case]]:
    return {f: generate_s8_cases(f, count, seed, arena_bytes) for f in functions}


def _draw(function: str, case_id: str, rng, edge: bool, budget: int) -> S8Case:
    draw = _DRAWS[function]
    for _ in range(_MAX_TRIES):
        params, arrays, x = draw(rng, edge, function)
        if sum(region_bytes(function, params).values()) <= budget:
            return S8Case(case_id, function, params, arrays, x.reshape(-1), edge)
    raise ConfigError(
        f"no {function} case fits {budget} bytes of kernel arena",
        hint="rebuild the firmware with a larger -DHIL_KERNEL_ARENA_BYTES",
    )


def _i(rng, lo: int, hi: int) -> int:
    """An integer in [lo, hi]."""
    return int(rng.integers(lo, hi + 1))


def _zero_point(rng, edge: bool) -> int:
    return int(rng.choice([-128, 127, 0])) if edge else _i(rng, -128, 127)


def _activation(rng, output_offset: int, edge: bool) -> tuple[int, int]:
    """NONE, RELU or RELU6-like clamps in the output's int8 range (edge: narrow ones)."""
    if edge and rng.random() < 0.3:
        lo = _i(rng, -128, 127)
        return lo, min(127, lo + _i(rng, 0, 3))
    kind = int(rng.integers(3))
    if kind == 0:
        return -128, 127
    lo = max(-128, min(127, output_offset))
    hi = 127 if kind == 1 else max(lo, min(127, output_offset + _i(rng, 1, 200)))
    return lo, hi


def _weights(rng, shape, edge: bool) -> np.ndarray:
    if edge and rng.random() < 0.3:
        return np.full(shape, int(rng.choice([-127, 127, 0])), np.int8)
    return rng.integers(-127, 128, size=shape).astype(np.int8)


def _bias(rng, n: int, edge: bool) -> np.ndarray:
    bits = 24 if edge and rng.random() < 0.3 else 14
    return rng.integers(-(1 << bits), 1 << bits, size=n).astype(np.int32)


def _quantised(rng, acc: np.ndarray, edge: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (multiplier, shift) for accumulators acc[..., C] that spread the
    outputs over int8 (edge: saturate them, or shrink them to nothing)."""
    span = np.maximum(np.abs(acc.reshape(-1, acc.shape[-1])).max(axis=0), 1).astype(float)
    factor = rng.uniform(0.5, 1.5, size=span.shape)
    if edge:
        factor *= float(rng.choice([8.0, 1.0 / 64, 1.0]))
    pairs = [quantize_multiplier(float(r)) for r in 127.0 * factor / span]
    mult = np.array([m for m, _ in pairs], np.int32)
    shift = np.array([min(s, 30) for _, s in pairs], np.int32)
    return mult, shift


def _spatial(rng, edge: bool, max_hw: int, max_k: int, dilate: bool):
    """input h/w, filter, stride, dilation, padding and output h/w of a window op."""
    h, w = (1, 1) if edge and rng.random() < 0.4 else (_i(rng, 1, max_hw), _i(rng, 1, max_hw))
    kh, kw = _i(rng, 1, max_k), _i(rng, 1, max_k)
    sh, sw = _i(rng, 1, 3), _i(rng, 1, 3)
    dh, dw = (_i(rng, 1, 3), _i(rng, 1, 3)) if dilate and rng.random() < 0.3 else (1, 1)
    pad = str(rng.choice(["SAME", "VALID"]))
    if pad == "VALID":  # the (dilated) filter must fit
        kh, kw = min(kh, (h - 1) // dh + 1), min(kw, (w - 1) // dw + 1)
    oh, ph = output_and_padding(pad, h, kh, sh, dh)
    ow, pw = output_and_padding(pad, w, kw, sw, dw)
    if edge and pad == "SAME" and rng.random() < 0.3:  # more padding than SAME's
        ph, pw = min(ph + 1, kh - 1), min(pw + 1, kw - 1)
    return dict(
        input_h=h, input_w=w, filter_h=kh, filter_w=kw, output_h=oh, output_w=ow,
        stride_h=sh, stride_w=sw, padding_h=ph, padding_w=pw, dilation_h=dh, dilation_w=dw,
    )  # fmt: skip


def _conv(rng, edge: bool, function: str):
    depthwise = function == "arm_depthwise_conv_wrapper_s8"
    n = 2 if rng.random() < 0.1 else 1
    c = int(rng.choice(_CHANNELS))
    mult = _i(rng, 1, 3) if depthwise else 1
    oc = c * mult if depthwise else _i(rng, 1, 9)
    p = {"input_n": n, "input_c": c, "output_c": oc, **_spatial(rng, edge, 9, 5, True)}
    x = rng.integers(-128, 128, size=(n, p["input_h"], p["input_w"], c)).astype(np.int8)
    in_zp, out_zp = _zero_point(rng, edge), _zero_point(rng, edge)
    p.update(input_offset=-in_zp, output_offset=out_zp)
    shape = (
        (p["filter_h"], p["filter_w"], oc) if depthwise else (oc, p["filter_h"], p["filter_w"], c)
    )
    arrays = {"weights": _weights(rng, shape, edge), "bias": _bias(rng, oc, edge)}
    if depthwise:
        p["ch_mult"] = mult
    accumulate = depthwise_accumulators if depthwise else conv_accumulators
    acc = accumulate(x, p, arrays) + arrays["bias"]
    arrays["multiplier"], arrays["shift"] = _quantised(rng, acc, edge)
    p["activation_min"], p["activation_max"] = _activation(rng, out_zp, edge)
    names = ("input_n", "input_h", "input_w", "input_c", "filter_h", "filter_w", "output_h",
             "output_w", "output_c", "stride_h", "stride_w", "padding_h", "padding_w",
             "dilation_h", "dilation_w", "input_offset", "output_offset", "activation_min",
             "activation_max", *(("ch_mult",) if depthwise else ()))  # fmt: skip
    return {k: int(p[k]) for k in names}, arrays, x


def _fc(rng, edge: bool, function: str):
    per_channel = function == "arm_fully_connected_per_channel_s8"
    n = _i(rng, 1, 3)
    accum = _i(rng, 1, 300) if edge else _i(rng, 1, 64)
    depth = _i(rng, 1, 24)
    x = rng.integers(-128, 128, size=(n, accum)).astype(np.int8)
    in_zp, out_zp = _zero_point(rng, edge), _zero_point(rng, edge)
    p = dict(
        input_n=n, accum_depth=accum, output_depth=depth, input_offset=-in_zp,
        filter_offset=0,  # CMSIS-NN's contract: symmetric weights
        output_offset=out_zp,
    )  # fmt: skip
    arrays = {"weights": _weights(rng, (depth, accum), edge), "bias": _bias(rng, depth, edge)}
    acc = fc_accumulators(x, p, arrays)
    mult, shift = _quantised(rng, acc, edge)
    p["activation_min"], p["activation_max"] = _activation(rng, out_zp, edge)
    if per_channel:
        arrays["multiplier"], arrays["shift"] = mult, shift
    else:  # one (multiplier, shift) for the tensor: the widest channel's
        k = int(np.argmin(mult.astype(np.int64) * 2.0 ** shift.astype(float)))
        p["multiplier"], p["shift"] = int(mult[k]), int(shift[k])
    return {k: int(v) for k, v in p.items()}, arrays, x


def _pool(rng, edge: bool, function: str):
    n = 2 if rng.random() < 0.1 else 1
    c = int(rng.choice(_CHANNELS))
    s = _spatial(rng, edge, 12, 4, False)
    p = {"input_n": n, **{k: s[k] for k in ("input_h", "input_w")}, "input_c": c}
    p.update({k: s[k] for k in ("filter_h", "filter_w", "output_h", "output_w")})
    p.update({k: s[k] for k in ("stride_h", "stride_w", "padding_h", "padding_w")})
    zp = _zero_point(rng, edge)
    p["activation_min"], p["activation_max"] = _activation(rng, zp, edge)
    x = rng.integers(-128, 128, size=(n, p["input_h"], p["input_w"], c)).astype(np.int8)
    return p, {}, x


def _softmax(rng, edge: bool, function: str):
    rows, size = _i(rng, 1, 4), _i(rng, 1, 40)
    x = rng.integers(-128, 128, size=(rows, size)).astype(np.int8)
    if edge and rng.random() < 0.5:
        x[:] = _i(rng, -128, 127)  # a flat row: every difference is 0
    scale = float(np.float32(2.0 ** rng.uniform(-8, 0)))
    beta = float(rng.choice([1.0, 0.5, 2.0, float(np.float32(rng.uniform(0.1, 3)))]))
    mult, shift, diff_min = softmax_parameters(beta, scale)
    p = dict(num_rows=rows, row_size=size, mult=mult, shift=shift, diff_min=diff_min)
    return p, {}, x


_DRAWS = {
    "arm_convolve_wrapper_s8": _conv,
    "arm_depthwise_conv_wrapper_s8": _conv,
    "arm_fully_connected_s8": _fc,
    "arm_fully_connected_per_channel_s8": _fc,
    "arm_max_pool_s8": _pool,
    "arm_avgpool_s8": _pool,
    "arm_softmax_s8": _softmax,
}
