"""The CMSIS-NN legacy q7 functions this toolkit calls, as data: the one source of truth.

Per function: its wire id, every non-scratch C parameter in argument order
(names as in ``arm_nnfunctions.h``, CMSIS_5 5.9.0), the buffers and their sizes,
the scratch it needs, the parameter rules and how firmware/src/kcall.c calls it.
The numpy reference (hil.reference), the host checks (hil.reference.validation)
and the device tables (firmware/src/kcheck_tables.h, kcall_tables.h, written by
scripts/gen_kernels.py) all read this module, so they cannot drift apart.

How to add a kernel: append its entry to ``KERNELS`` with the next ``id`` (never
reorder: ids are on the wire and in built images), reusing or adding rule groups
and, if its argument order is new, a ``call`` shape (in ``CALL_SHAPES``, as a
macro in firmware/src/kcall.c and, for where it takes the scratch, in
hil/export/calls.py); a new rule ``Op`` also needs its case in
hil/reference/validation.py and firmware/src/kcheck.c. Write its numpy reference in
the family module under hil/reference/ and list it in that module's PLANNERS;
add its C file to firmware/nn/src/ (the portable backend) and declare it in the
backend's header; then run ``python scripts/gen_kernels.py`` and
``python scripts/gen_protocol.py`` and commit the regenerated files.
"""

from __future__ import annotations

from dataclasses import dataclass

from hil.kernels.rules import NO_SIZE, Op, Params, Rule, RuleGroup, Size, size

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

# Argument orders kcall.c has a macro for: shape -> the scalars it passes, in order.
CALL_SHAPES = {
    "SQUARE_CONV": 9,
    "NONSQUARE_CONV": 14,
    "POOL": 6,
    "FC": 4,
    "IN_PLACE": 1,  # f(data, size) on the output buffer
    "VECTOR": 1,  # f(in, size, out)
    "ACTIVATION": 3,  # f(data, size, int_width, type) on the output buffer
}


@dataclass(frozen=True)
class KernelSpec:
    """Signature, sizes, rules and C call of one CMSIS-NN q7 function.

    ``args`` lists every non-scratch C parameter in argument order: the
    pointer parameters named in ``input``/``weights``/``bias``/``output``
    and the scalar ones (all others). ``input_size`` etc. give byte (= q7
    element) counts from the scalar parameters. ``rules`` are checked in order.
    """

    name: str
    id: int
    args: tuple[str, ...]
    input: str
    output: str
    input_size: Size
    output_size: Size
    rules: tuple[RuleGroup, ...]
    call: str  # a CALL_SHAPES macro of kcall.c
    weights: str | None = None
    bias: str | None = None
    weights_size: Size | None = None
    bias_size: Size | None = None
    scratch_size: Size = NO_SIZE  # the genuine library's contract (arm_nnfunctions.h)
    macs: Size = NO_SIZE
    in_place: bool = False  # output overwrites the input buffer
    returns_status: bool = False  # C function returns arm_status
    enum_param: str | None = None  # the one scalar that is not a uint16_t
    overread: int = 0  # bytes the C code reads past the end of its input

    @property
    def scalars(self) -> tuple[str, ...]:
        pointers = {self.input, self.output, self.weights, self.bias}
        return tuple(a for a in self.args if a not in pointers)

    @property
    def all_rules(self) -> tuple[Rule, ...]:
        return tuple(r for group in self.rules for r in group.rules)

    @property
    def output_key(self) -> str:
        """Key of the result in a golden-vector file (``data__out`` when in place)."""
        return f"{self.output}__out" if self.in_place else self.output

    def output_shape(self, p: Params) -> tuple[int, ...]:
        """HWC shape of the output for image functions, (n,) for vectors."""
        if "dim_im_out" in p:
            ch = p["ch_im_out"] if "ch_im_out" in p else p["ch_im_in"]
            return (p["dim_im_out"], p["dim_im_out"], ch)
        if "dim_im_out_x" in p:
            return (p["dim_im_out_y"], p["dim_im_out_x"], p["ch_im_out"])
        return (self.output_size(p),)

    def input_shape(self, p: Params) -> tuple[int, ...]:
        if "dim_im_in" in p:
            return (p["dim_im_in"], p["dim_im_in"], p["ch_im_in"])
        if "dim_im_in_x" in p:
            return (p["dim_im_in_y"], p["dim_im_in_x"], p["ch_im_in"])
        return (self.input_size(p),)


# --- rules, with the host's message texts -------------------------------------------
#
# Shift rules: out_shift 0..30, as at 31 the C rounding constant 1 << 31 overflows;
# bias_shift 0..24, as the C code computes (q31_t)bias << bias_shift, which for every
# int8 bias stays inside int32 exactly when bias_shift <= 24 (127*2^24 < 2^31 and
# -128*2^24 = -2^31). The accumulator itself may still wrap for extreme data; the
# reference wraps modulo 2^32 like the silicon.
#
# Rules stricter than the C code, because the C result would be meaningless:
# padding < kernel on every axis (a window made only of padding), pooling windows that
# all overlap the image with dim_im_out <= dim_im_in (the DSP path reads its first
# column unconditionally and writes past its rows; the plain path divides by zero),
# and activation type 0 or 1 (C treats any other value as tanh).


def in_range(name: str, lo: int, hi: int, why: str) -> Rule:
    why = why.replace("{", "{{").replace("}", "}}")
    message = "= {v0} is outside {lo}..{hi}" + f" ({why})"
    return Rule(Op.RANGE, (name,), message, "use a {p0} in {lo}..{hi}", lo, hi)


def positive(name: str) -> Rule:
    return in_range(name, 1, UINT16_MAX, "must be at least 1")


def narrow(name: str) -> Rule:
    return in_range(name, *NARROW_RANGES[name])


def must_be(name: str, value: int, hint: str) -> Rule:
    return Rule(Op.RANGE, (name,), "= {v0} must be {lo}", hint, value, value)


def smaller(padding: str, kernel: str) -> Rule:
    return Rule(
        Op.LESS,
        (padding, kernel),
        "= {v0} must be smaller than {p1} = {v1}",
        "padding beyond kernel-1 only adds all-padding windows",
    )


def not_above(name: str, limit: str, hint: str) -> Rule:
    return Rule(Op.NOT_ABOVE, (name, limit), "= {v0} must not exceed {p1} = {v1}", hint)


def same(name: str, other: str, hint: str) -> Rule:
    return Rule(Op.SAME, (name, other), "= {v0} must equal {p1} = {v1}", hint)


def multiple(name: str, factor: int, hint: str) -> Rule:
    return Rule(Op.MULTIPLE, (name,), "= {v0} must be a multiple of {lo}", hint, factor)


def window_fits(dim_out: str, dim_in: str, kernel: str, padding: str, stride: str) -> Rule:
    return Rule(
        Op.WINDOW_FITS,
        (dim_out, dim_in, kernel, padding, stride),
        "= {v0} exceeds ({p1} + 2*{p3} - {p2}) / {p4} + 1 = {limit}",
        "the _fast kernels read past the image otherwise; use the _basic function",
    )


def last_window(dim_out: str, dim_in: str, padding: str, stride: str) -> Rule:
    # The DSP path reads a window's first column unconditionally, and the
    # plain path divides by the in-bounds count.
    return Rule(
        Op.LAST_WINDOW,
        (dim_out, dim_in, padding, stride),
        "= {v0}: the last window starts past the image",
        "use dim_im_out <= (dim_im_in + padding - 1) / stride + 1",
    )


# (dim_in, kernel, padding, stride, dim_out) per spatial axis.
Axis = tuple[str, str, str, str, str]
SQUARE: tuple[Axis, ...] = (("dim_im_in", "dim_kernel", "padding", "stride", "dim_im_out"),)
NONSQUARE: tuple[Axis, ...] = tuple(
    (f"dim_im_in_{a}", f"dim_kernel_{a}", f"padding_{a}", f"stride_{a}", f"dim_im_out_{a}")
    for a in ("x", "y")
)


def _geometry(axes: tuple[Axis, ...], channels: tuple[str, ...]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for d_in, k, pad, s, d_out in axes:
        rules += [positive(d_in), positive(k), positive(s), positive(d_out), smaller(pad, k)]
    return (*rules, *(positive(c) for c in channels))


def _fast(axes: tuple[Axis, ...]) -> tuple[Rule, ...]:
    """The _fast kernels assume interior windows and SIMD-friendly channels."""
    basic = "use the _basic function for other channel counts"
    rules = [multiple("ch_im_in", 4, basic), multiple("ch_im_out", 2, basic)]
    for d_in, k, pad, s, d_out in axes:
        rules += [
            window_fits(d_out, d_in, k, pad, s),
            not_above(pad, d_out, "the _fast kernels assume padding <= output size"),
        ]
    return tuple(rules)


SHIFTS = (narrow("out_shift"), narrow("bias_shift"))
CHANNELS = ("ch_im_in", "ch_im_out")
DEPTHWISE_HINT = "the depthwise kernel has a channel multiplier of 1"

SQ_CONV = RuleGroup("sq_conv", _geometry(SQUARE, CHANNELS) + SHIFTS)
SQ_FAST = RuleGroup("sq_fast", _fast(SQUARE))
SQ_RGB = RuleGroup(
    "sq_rgb",
    (
        must_be(
            "ch_im_in",
            3,
            "the RGB kernel only takes 3-channel input; use arm_convolve_HWC_q7_basic",
        ),
    ),
)
SQ_DEPTHWISE = RuleGroup("sq_depthwise", (same("ch_im_out", "ch_im_in", DEPTHWISE_HINT),))
NS_CONV = RuleGroup("ns_conv", _geometry(NONSQUARE, CHANNELS) + SHIFTS)
NS_FAST = RuleGroup("ns_fast", _fast(NONSQUARE))
NS_1X1 = RuleGroup(
    "ns_1x1",
    tuple(
        must_be(name, want, "the 1x1 kernel needs a 1x1 kernel, no padding and unit strides")
        for name, want in (
            ("dim_kernel_x", 1),
            ("dim_kernel_y", 1),
            ("padding_x", 0),
            ("padding_y", 0),
            ("stride_x", 1),
            ("stride_y", 1),
        )
    ),
)
NS_DEPTHWISE = RuleGroup("ns_depthwise", (same("ch_im_out", "ch_im_in", DEPTHWISE_HINT),))
# The DSP pooling works in place on the input's rows: within the input region
# exactly when dim_im_out <= dim_im_in and every window overlaps the image.
POOL = RuleGroup(
    "pool",
    _geometry(SQUARE, ("ch_im_in",))
    + (
        not_above("dim_im_out", "dim_im_in", "the in-place pooling writes past its rows otherwise"),
        last_window("dim_im_out", "dim_im_in", "padding", "stride"),
    ),
)
AVEPOOL = RuleGroup(
    "avepool", (in_range("dim_kernel", 1, AVEPOOL_KERNEL_MAX, "int16 window sums"),)
)
FC = RuleGroup("fc", (positive("dim_vec"), positive("num_of_rows")) + SHIFTS)
SOFTMAX = RuleGroup(
    "softmax",
    (in_range("dim_vec", 1, SOFTMAX_DIM_MAX, "0 divides by zero; the C index is int16"),),
)
ACTIVATION = RuleGroup(
    "activation",
    (
        narrow("int_width"),
        Rule(
            Op.RANGE,
            ("type",),
            "= {v0} is not an activation type",
            "use 0 (ARM_SIGMOID) or 1 (ARM_TANH)",
            min(ACTIVATION_TYPES),
            max(ACTIVATION_TYPES),
        ),
    ),
)


# --- the functions --------------------------------------------------------------------

SQUARE_ARGS = (
    "Im_in",
    "dim_im_in",
    "ch_im_in",
    "wt",
    "ch_im_out",
    "dim_kernel",
    "padding",
    "stride",
    "bias",
    "bias_shift",
    "out_shift",
    "Im_out",
    "dim_im_out",
)
NONSQUARE_ARGS = (
    "Im_in",
    "dim_im_in_x",
    "dim_im_in_y",
    "ch_im_in",
    "wt",
    "ch_im_out",
    "dim_kernel_x",
    "dim_kernel_y",
    "padding_x",
    "padding_y",
    "stride_x",
    "stride_y",
    "bias",
    "bias_shift",
    "out_shift",
    "Im_out",
    "dim_im_out_x",
    "dim_im_out_y",
)
POOL_ARGS = (
    "Im_in",
    "dim_im_in",
    "ch_im_in",
    "dim_kernel",
    "padding",
    "stride",
    "dim_im_out",
    "Im_out",
)
# bufferA: 2 * ch_im_in * kernel area q15 values.
SQUARE_SCRATCH = size("ch_im_in", "dim_kernel", "dim_kernel", coef=4)
NONSQUARE_SCRATCH = size("ch_im_in", "dim_kernel_x", "dim_kernel_y", coef=4)


def _square_conv(
    name: str,
    id: int,
    rules: tuple[RuleGroup, ...],
    *,
    depthwise: bool = False,
    scratch: Size = SQUARE_SCRATCH,
    overread: int = 0,
) -> KernelSpec:
    kernel = ("dim_kernel", "dim_kernel", "ch_im_in")
    weights = kernel if depthwise else ("ch_im_out", *kernel)
    return KernelSpec(
        name=name,
        id=id,
        args=SQUARE_ARGS,
        input="Im_in",
        output="Im_out",
        weights="wt",
        bias="bias",
        input_size=size("dim_im_in", "dim_im_in", "ch_im_in"),
        output_size=size("dim_im_out", "dim_im_out", "ch_im_out"),
        weights_size=size(*weights),
        bias_size=size("ch_im_out"),
        scratch_size=scratch,
        macs=size("dim_im_out", "dim_im_out", "ch_im_out", *kernel[: 2 if depthwise else 3]),
        rules=rules,
        call="SQUARE_CONV",
        returns_status=True,
        overread=overread,
    )


def _nonsquare_conv(
    name: str,
    id: int,
    rules: tuple[RuleGroup, ...],
    *,
    depthwise: bool = False,
    scratch: Size = NONSQUARE_SCRATCH,
) -> KernelSpec:
    kernel = ("dim_kernel_x", "dim_kernel_y", "ch_im_in")
    weights = kernel if depthwise else ("ch_im_out", *kernel)
    out = ("dim_im_out_x", "dim_im_out_y", "ch_im_out")
    return KernelSpec(
        name=name,
        id=id,
        args=NONSQUARE_ARGS,
        input="Im_in",
        output="Im_out",
        weights="wt",
        bias="bias",
        input_size=size("dim_im_in_x", "dim_im_in_y", "ch_im_in"),
        output_size=size(*out),
        weights_size=size(*weights),
        bias_size=size("ch_im_out"),
        scratch_size=scratch,
        macs=size(*out, *kernel[: 2 if depthwise else 3]),
        rules=rules,
        call="NONSQUARE_CONV",
        returns_status=True,
    )


def _pool(name: str, id: int, rules: tuple[RuleGroup, ...], scratch: Size) -> KernelSpec:
    return KernelSpec(
        name=name,
        id=id,
        args=POOL_ARGS,
        input="Im_in",
        output="Im_out",
        input_size=size("dim_im_in", "dim_im_in", "ch_im_in"),
        output_size=size("dim_im_out", "dim_im_out", "ch_im_in"),
        scratch_size=scratch,
        macs=size("dim_im_out", "dim_im_out", "ch_im_in", "dim_kernel", "dim_kernel"),
        rules=rules,
        call="POOL",
    )


def _fully_connected(name: str, id: int) -> KernelSpec:
    return KernelSpec(
        name=name,
        id=id,
        args=("pV", "pM", "dim_vec", "num_of_rows", "bias_shift", "out_shift", "bias", "pOut"),
        input="pV",
        output="pOut",
        weights="pM",
        bias="bias",
        input_size=size("dim_vec"),
        output_size=size("num_of_rows"),
        weights_size=size("dim_vec", "num_of_rows"),
        bias_size=size("num_of_rows"),
        scratch_size=size("dim_vec", coef=2),  # vec_buffer: dim_vec q15 values
        macs=size("dim_vec", "num_of_rows"),
        rules=(FC,),
        call="FC",
        returns_status=True,
    )


KERNELS: tuple[KernelSpec, ...] = (
    _square_conv("arm_convolve_HWC_q7_basic", 1, (SQ_CONV,)),
    _square_conv("arm_convolve_HWC_q7_fast", 2, (SQ_CONV, SQ_FAST)),
    # Copies each 3-byte pixel with a 4-byte read: one byte past the last.
    _square_conv(
        "arm_convolve_HWC_q7_RGB",
        3,
        (SQ_CONV, SQ_RGB),
        scratch=size("dim_kernel", "dim_kernel", coef=12),
        overread=1,
    ),
    _nonsquare_conv("arm_convolve_HWC_q7_basic_nonsquare", 4, (NS_CONV,)),
    _nonsquare_conv("arm_convolve_HWC_q7_fast_nonsquare", 5, (NS_CONV, NS_FAST)),
    _nonsquare_conv(
        "arm_convolve_1x1_HWC_q7_fast_nonsquare",
        6,
        (NS_1X1, NS_CONV, NS_FAST),
        scratch=size("ch_im_in", coef=4),
    ),
    _square_conv("arm_depthwise_separable_conv_HWC_q7", 7, (SQ_CONV, SQ_DEPTHWISE), depthwise=True),
    _nonsquare_conv(
        "arm_depthwise_separable_conv_HWC_q7_nonsquare",
        8,
        (NS_CONV, NS_DEPTHWISE),
        depthwise=True,
    ),
    KernelSpec(
        name="arm_relu_q7",
        id=9,
        args=("data", "size"),
        input="data",
        output="data",
        input_size=size("size"),
        output_size=size("size"),
        rules=(),
        call="IN_PLACE",
        in_place=True,
    ),
    _pool("arm_maxpool_q7_HWC", 10, (POOL,), NO_SIZE),
    # bufferA: dim_im_out * ch_im_in q15 column sums.
    _pool("arm_avepool_q7_HWC", 11, (POOL, AVEPOOL), size("dim_im_out", "ch_im_in", coef=2)),
    _fully_connected("arm_fully_connected_q7", 12),
    _fully_connected("arm_fully_connected_q7_opt", 13),
    KernelSpec(
        name="arm_softmax_q7",
        id=14,
        args=("vec_in", "dim_vec", "p_out"),
        input="vec_in",
        output="p_out",
        input_size=size("dim_vec"),
        output_size=size("dim_vec"),
        rules=(SOFTMAX,),
        call="VECTOR",
    ),
    KernelSpec(
        name="arm_nn_activations_direct_q7",
        id=15,
        args=("data", "size", "int_width", "type"),
        input="data",
        output="data",
        input_size=size("size"),
        output_size=size("size"),
        rules=(ACTIVATION,),
        call="ACTIVATION",
        in_place=True,
        enum_param="type",
    ),
)

KERNEL_SPECS: dict[str, KernelSpec] = {k.name: k for k in KERNELS}
# Stable numeric ids used on the wire and in the generated model tables.
FUNCTION_IDS: dict[str, int] = {k.name: k.id for k in KERNELS}
