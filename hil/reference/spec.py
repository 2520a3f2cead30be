"""What each CMSIS-NN legacy q7 function takes and produces.

Plain data about the C API, shared by the numpy reference, the model
loader, the firmware code generator and the reports. Parameter names are
spelled as in ``arm_nnfunctions.h`` (CMSIS_5 5.9.0), in C argument order.
Scratch buffers (bufferA, bufferB, vec_buffer) are not listed: callers of
the reference never pass them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

Params = Mapping[str, int]


@dataclass(frozen=True)
class KernelSpec:
    """Signature and tensor sizes of one CMSIS-NN q7 function.

    ``args`` lists every non-scratch C parameter in argument order: the
    pointer parameters named in ``input``/``weights``/``bias``/``output``
    and the scalar ones (all others). ``input_size`` etc. give element
    counts from the scalar parameters.
    """

    name: str
    args: tuple[str, ...]
    input: str
    output: str
    input_size: Callable[[Params], int]
    output_size: Callable[[Params], int]
    weights: str | None = None
    bias: str | None = None
    weights_size: Callable[[Params], int] | None = None
    bias_size: Callable[[Params], int] | None = None
    macs: Callable[[Params], int] = lambda p: 0
    in_place: bool = False  # output overwrites the input buffer
    returns_status: bool = False  # C function returns arm_status

    @property
    def scalars(self) -> tuple[str, ...]:
        pointers = {self.input, self.output, self.weights, self.bias}
        return tuple(a for a in self.args if a not in pointers)

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


def _square_conv(name: str, *, depthwise: bool = False) -> KernelSpec:
    def wsize(p: Params) -> int:
        if depthwise:
            return p["dim_kernel"] ** 2 * p["ch_im_in"]
        return p["ch_im_out"] * p["dim_kernel"] ** 2 * p["ch_im_in"]

    def macs(p: Params) -> int:
        per_out = p["dim_kernel"] ** 2 * (1 if depthwise else p["ch_im_in"])
        return p["dim_im_out"] ** 2 * p["ch_im_out"] * per_out

    return KernelSpec(
        name=name,
        args=(
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
        ),
        input="Im_in",
        output="Im_out",
        weights="wt",
        bias="bias",
        input_size=lambda p: p["dim_im_in"] ** 2 * p["ch_im_in"],
        output_size=lambda p: p["dim_im_out"] ** 2 * p["ch_im_out"],
        weights_size=wsize,
        bias_size=lambda p: p["ch_im_out"],
        macs=macs,
        returns_status=True,
    )


def _nonsquare_conv(name: str, *, depthwise: bool = False) -> KernelSpec:
    def wsize(p: Params) -> int:
        k = p["dim_kernel_x"] * p["dim_kernel_y"] * p["ch_im_in"]
        return k if depthwise else p["ch_im_out"] * k

    def macs(p: Params) -> int:
        per_out = p["dim_kernel_x"] * p["dim_kernel_y"] * (1 if depthwise else p["ch_im_in"])
        return p["dim_im_out_x"] * p["dim_im_out_y"] * p["ch_im_out"] * per_out

    return KernelSpec(
        name=name,
        args=(
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
        ),
        input="Im_in",
        output="Im_out",
        weights="wt",
        bias="bias",
        input_size=lambda p: p["dim_im_in_x"] * p["dim_im_in_y"] * p["ch_im_in"],
        output_size=lambda p: p["dim_im_out_x"] * p["dim_im_out_y"] * p["ch_im_out"],
        weights_size=wsize,
        bias_size=lambda p: p["ch_im_out"],
        macs=macs,
        returns_status=True,
    )


def _pool(name: str) -> KernelSpec:
    return KernelSpec(
        name=name,
        args=(
            "Im_in",
            "dim_im_in",
            "ch_im_in",
            "dim_kernel",
            "padding",
            "stride",
            "dim_im_out",
            "Im_out",
        ),
        input="Im_in",
        output="Im_out",
        input_size=lambda p: p["dim_im_in"] ** 2 * p["ch_im_in"],
        output_size=lambda p: p["dim_im_out"] ** 2 * p["ch_im_in"],
        macs=lambda p: p["dim_im_out"] ** 2 * p["ch_im_in"] * p["dim_kernel"] ** 2,
    )


def _fully_connected(name: str) -> KernelSpec:
    return KernelSpec(
        name=name,
        args=("pV", "pM", "dim_vec", "num_of_rows", "bias_shift", "out_shift", "bias", "pOut"),
        input="pV",
        output="pOut",
        weights="pM",
        bias="bias",
        input_size=lambda p: p["dim_vec"],
        output_size=lambda p: p["num_of_rows"],
        weights_size=lambda p: p["dim_vec"] * p["num_of_rows"],
        bias_size=lambda p: p["num_of_rows"],
        macs=lambda p: p["dim_vec"] * p["num_of_rows"],
        returns_status=True,
    )


KERNEL_SPECS: dict[str, KernelSpec] = {
    s.name: s
    for s in (
        _square_conv("arm_convolve_HWC_q7_basic"),
        _square_conv("arm_convolve_HWC_q7_fast"),
        _square_conv("arm_convolve_HWC_q7_RGB"),
        _nonsquare_conv("arm_convolve_HWC_q7_basic_nonsquare"),
        _nonsquare_conv("arm_convolve_HWC_q7_fast_nonsquare"),
        _nonsquare_conv("arm_convolve_1x1_HWC_q7_fast_nonsquare"),
        _square_conv("arm_depthwise_separable_conv_HWC_q7", depthwise=True),
        _nonsquare_conv("arm_depthwise_separable_conv_HWC_q7_nonsquare", depthwise=True),
        KernelSpec(
            name="arm_relu_q7",
            args=("data", "size"),
            input="data",
            output="data",
            input_size=lambda p: p["size"],
            output_size=lambda p: p["size"],
            in_place=True,
        ),
        _pool("arm_maxpool_q7_HWC"),
        _pool("arm_avepool_q7_HWC"),
        _fully_connected("arm_fully_connected_q7"),
        _fully_connected("arm_fully_connected_q7_opt"),
        KernelSpec(
            name="arm_softmax_q7",
            args=("vec_in", "dim_vec", "p_out"),
            input="vec_in",
            output="p_out",
            input_size=lambda p: p["dim_vec"],
            output_size=lambda p: p["dim_vec"],
        ),
        KernelSpec(
            name="arm_nn_activations_direct_q7",
            args=("data", "size", "int_width", "type"),
            input="data",
            output="data",
            input_size=lambda p: p["size"],
            output_size=lambda p: p["size"],
            in_place=True,
        ),
    )
}

# Functions whose DSP (SIMD) and plain-C paths compute different results.
VARIANT_DEPENDENT = frozenset({"arm_maxpool_q7_HWC", "arm_avepool_q7_HWC"})
VARIANTS = ("dsp", "plain")

# Stable numeric ids used on the wire and in the generated model tables:
# 1-based, in the order above. Append new functions; never reorder.
FUNCTION_IDS: dict[str, int] = {name: i + 1 for i, name in enumerate(KERNEL_SPECS)}
