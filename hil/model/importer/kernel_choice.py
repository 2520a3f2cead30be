"""Which CMSIS-NN function runs each layer, and why.

Candidates are tried in order of speed and the first whose rules hold
(hil.reference.validation.validate_params, i.e. the catalogue's rules) wins:
``_RGB`` for 3-channel square input, ``_fast`` where its channel and window
constraints hold, else ``_basic``; the ``_nonsquare`` forms for non-square
geometry, the 1x1 kernel for 1x1 convolutions, the depthwise kernels for
depthwise ones, ``_opt`` for fully-connected layers. ``prefer`` (tags such as
``basic``) and per-layer overrides force a choice; an illegal one is refused
with the rule's message.
"""

from __future__ import annotations

from dataclasses import dataclass

from hil.errors import ConfigError, KernelParameterError
from hil.model.importer.ops import Activation, Conv, Dense, Pool
from hil.model.importer.quantise import QuantOp
from hil.reference.validation import validate_params

# --prefer tags and the functions they name.
PREFER_TAGS: dict[str, tuple[str, ...]] = {
    "basic": (
        "arm_convolve_HWC_q7_basic",
        "arm_convolve_HWC_q7_basic_nonsquare",
        "arm_fully_connected_q7",
    ),
    "fast": (
        "arm_convolve_HWC_q7_fast",
        "arm_convolve_HWC_q7_fast_nonsquare",
        "arm_convolve_1x1_HWC_q7_fast_nonsquare",
    ),
    "rgb": ("arm_convolve_HWC_q7_RGB",),
    "opt": ("arm_fully_connected_q7_opt",),
    "nonsquare": (
        "arm_convolve_HWC_q7_basic_nonsquare",
        "arm_convolve_HWC_q7_fast_nonsquare",
        "arm_convolve_1x1_HWC_q7_fast_nonsquare",
        "arm_depthwise_separable_conv_HWC_q7_nonsquare",
    ),
}


@dataclass(frozen=True)
class Choice:
    function: str
    params: dict[str, int]
    why: str


def _square(op: Conv) -> bool:
    _, h, w = op.in_shape
    kh, kw = op.weight.shape[2:]
    return h == w and kh == kw and op.stride[0] == op.stride[1] and op.pad[0] == op.pad[1]


def _conv_params(q: QuantOp, square: bool) -> dict[str, int]:
    op = q.op
    assert isinstance(op, Conv)
    cin, h, w = op.in_shape
    cout, ho, wo = op.out_shape
    kh, kw = op.weight.shape[2:]
    shifts = {"bias_shift": q.bias_shift, "out_shift": q.out_shift}
    if square:
        return {
            "dim_im_in": h,
            "ch_im_in": cin,
            "ch_im_out": cout,
            "dim_kernel": kh,
            "padding": op.pad[0],
            "stride": op.stride[0],
            "dim_im_out": ho,
            **shifts,
        }
    return {
        "dim_im_in_x": w,
        "dim_im_in_y": h,
        "ch_im_in": cin,
        "ch_im_out": cout,
        "dim_kernel_x": kw,
        "dim_kernel_y": kh,
        "padding_x": op.pad[1],
        "padding_y": op.pad[0],
        "stride_x": op.stride[1],
        "stride_y": op.stride[0],
        "dim_im_out_x": wo,
        "dim_im_out_y": ho,
        **shifts,
    }


def candidates(q: QuantOp) -> list[tuple[str, dict[str, int], str]]:
    """(function, params, why it would be chosen) in order of preference."""
    op = q.op
    if isinstance(op, Conv):
        sq = _square(op)
        p_sq = _conv_params(q, True) if sq else None
        p_ns = _conv_params(q, False)
        out: list[tuple[str, dict[str, int], str]] = []
        if op.depthwise:
            if p_sq is not None:
                out.append(("arm_depthwise_separable_conv_HWC_q7", p_sq, "depthwise, square"))
            return out + [
                ("arm_depthwise_separable_conv_HWC_q7_nonsquare", p_ns, "depthwise, non-square")
            ]
        one = op.weight.shape[2:] == (1, 1) and op.pad == (0, 0) and op.stride == (1, 1)
        if one:
            out.append(("arm_convolve_1x1_HWC_q7_fast_nonsquare", p_ns, "1x1 kernel, unit stride"))
        if p_sq is not None:
            out += [
                ("arm_convolve_HWC_q7_RGB", p_sq, "3-channel square input"),
                ("arm_convolve_HWC_q7_fast", p_sq, "square; channels fit _fast"),
                ("arm_convolve_HWC_q7_basic", p_sq, "square; the general kernel"),
            ]
        geometry = "non-square geometry" if p_sq is None else "square, non-square form"
        return out + [
            ("arm_convolve_HWC_q7_fast_nonsquare", p_ns, f"{geometry}; channels fit _fast"),
            ("arm_convolve_HWC_q7_basic_nonsquare", p_ns, f"{geometry}; the general kernel"),
        ]
    if isinstance(op, Dense):
        p = {
            "dim_vec": int(op.weight.shape[1]),
            "num_of_rows": int(op.weight.shape[0]),
            "bias_shift": q.bias_shift,
            "out_shift": q.out_shift,
        }
        return [
            ("arm_fully_connected_q7_opt", p, "fully connected; interleaved weights are faster"),
            ("arm_fully_connected_q7", p, "fully connected, row-major weights"),
        ]
    if isinstance(op, Pool):
        fn = "arm_maxpool_q7_HWC" if op.kind == "max" else "arm_avepool_q7_HWC"
        p = {
            "dim_im_in": op.in_shape[1],
            "ch_im_in": op.in_shape[0],
            "dim_kernel": op.kernel,
            "padding": op.pad,
            "stride": op.stride,
            "dim_im_out": op.out_shape[1],
        }
        return [(fn, p, f"the only {op.kind} pooling kernel")]
    assert isinstance(op, Activation)
    if op.kind == "relu":
        return [("arm_relu_q7", {"size": op.size}, "the only ReLU kernel")]
    if op.kind == "softmax":
        return [("arm_softmax_q7", {"dim_vec": op.size}, "the only softmax kernel")]
    assert q.int_width is not None
    p = {"size": op.size, "int_width": q.int_width, "type": 0 if op.kind == "sigmoid" else 1}
    return [("arm_nn_activations_direct_q7", p, f"{op.kind} through the q7 table")]


def _illegal(function: str, params: dict[str, int]) -> str | None:
    try:
        validate_params(function, params)
    except KernelParameterError as exc:
        return exc.message
    return None


def choose(q: QuantOp, prefer: tuple[str, ...] = (), override: str | None = None) -> Choice:
    """The function for one layer: ``override`` if given, else the first legal preferred one."""
    options = candidates(q)
    node = f"node '{q.op.node}' ({q.op.onnx_op}), layer '{q.op.name}'"
    if override is not None:
        for function, params, _ in options:
            if function == override:
                problem = _illegal(function, params)
                if problem is not None:
                    raise ConfigError(f"{node}: {problem}", hint="choose another function")
                return Choice(function, params, "forced by --kernel")
        raise ConfigError(
            f"{node}: {override} cannot run this layer",
            hint="use one of: " + ", ".join(dict.fromkeys(f for f, _, _ in options)),
        )
    legal, skipped = [], []
    for function, params, why in options:
        problem = _illegal(function, params)
        if problem is None:
            legal.append((function, params, why))
        elif not legal:
            skipped.append(problem)  # a faster kernel whose rules do not hold
    if not legal:
        raise ConfigError(
            f"{node}: no CMSIS-NN kernel can run it: {skipped[-1]}",
            hint="change the layer's geometry (see docs/importing.md)",
        )
    wanted = {f for tag in prefer for f in PREFER_TAGS[tag]}
    for function, params, _why in legal:
        if function in wanted:
            return Choice(function, params, "--prefer " + ",".join(prefer))
    function, params, why = legal[0]
    if skipped:  # the rule that ruled out the next faster kernel
        why = f"{why}; not {skipped[-1].removeprefix('arm_')}"
    return Choice(function, params, why)
