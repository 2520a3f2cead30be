"""Every parameter rule of hil.reference.validation raises, naming the parameter."""

from __future__ import annotations

import numpy as np
import pytest

from hil.errors import ConfigError, KernelParameterError
from hil.reference import call_kernel, get_kernel
from hil.reference.spec import KERNEL_SPECS
from hil.reference.validation import validate_arrays, validate_params

SQUARE = dict(
    dim_im_in=8,
    ch_im_in=4,
    ch_im_out=2,
    dim_kernel=3,
    padding=1,
    stride=1,
    bias_shift=0,
    out_shift=7,
    dim_im_out=8,
)
NONSQUARE = dict(
    dim_im_in_x=8,
    dim_im_in_y=6,
    ch_im_in=4,
    ch_im_out=2,
    dim_kernel_x=3,
    dim_kernel_y=3,
    padding_x=1,
    padding_y=1,
    stride_x=1,
    stride_y=1,
    bias_shift=0,
    out_shift=7,
    dim_im_out_x=8,
    dim_im_out_y=6,
)
POOL = dict(dim_im_in=8, ch_im_in=4, dim_kernel=3, padding=0, stride=2, dim_im_out=4)
FC = dict(dim_vec=8, num_of_rows=4, bias_shift=0, out_shift=7)

BASE = {
    "arm_convolve_HWC_q7_basic": SQUARE,
    "arm_convolve_HWC_q7_fast": SQUARE,
    "arm_convolve_HWC_q7_RGB": dict(SQUARE, ch_im_in=3),
    "arm_convolve_HWC_q7_basic_nonsquare": NONSQUARE,
    "arm_convolve_HWC_q7_fast_nonsquare": NONSQUARE,
    "arm_convolve_1x1_HWC_q7_fast_nonsquare": dict(
        NONSQUARE, dim_kernel_x=1, dim_kernel_y=1, padding_x=0, padding_y=0
    ),
    "arm_depthwise_separable_conv_HWC_q7": dict(SQUARE, ch_im_out=4),
    "arm_depthwise_separable_conv_HWC_q7_nonsquare": dict(NONSQUARE, ch_im_out=4),
    "arm_relu_q7": dict(size=10),
    "arm_maxpool_q7_HWC": POOL,
    "arm_avepool_q7_HWC": POOL,
    "arm_fully_connected_q7": FC,
    "arm_fully_connected_q7_opt": FC,
    "arm_softmax_q7": dict(dim_vec=10),
    "arm_nn_activations_direct_q7": dict(size=10, int_width=0, type=0),
}

# (function, overrides, parameter the message must name)
BAD = [
    ("arm_convolve_HWC_q7_basic", dict(out_shift=31), "out_shift"),
    ("arm_convolve_HWC_q7_basic", dict(bias_shift=25), "bias_shift"),
    ("arm_convolve_HWC_q7_basic", dict(dim_im_in=0), "dim_im_in"),
    ("arm_convolve_HWC_q7_basic", dict(stride=0), "stride"),
    ("arm_convolve_HWC_q7_basic", dict(dim_kernel=0), "dim_kernel"),
    ("arm_convolve_HWC_q7_basic", dict(dim_im_out=0), "dim_im_out"),
    ("arm_convolve_HWC_q7_basic", dict(ch_im_out=0), "ch_im_out"),
    ("arm_convolve_HWC_q7_basic", dict(padding=3), "padding"),
    ("arm_convolve_HWC_q7_basic", dict(dim_im_in=70000), "dim_im_in"),
    ("arm_convolve_HWC_q7_fast", dict(ch_im_in=6), "ch_im_in"),
    ("arm_convolve_HWC_q7_fast", dict(ch_im_out=3), "ch_im_out"),
    ("arm_convolve_HWC_q7_fast", dict(dim_im_out=9), "dim_im_out"),
    (
        "arm_convolve_HWC_q7_fast",
        dict(dim_im_in=2, dim_im_out=1, padding=2, dim_kernel=3),
        "padding",
    ),
    ("arm_convolve_HWC_q7_fast_nonsquare", dict(dim_im_out_y=7), "dim_im_out_y"),
    ("arm_convolve_HWC_q7_fast_nonsquare", dict(ch_im_in=2), "ch_im_in"),
    (
        "arm_convolve_HWC_q7_fast_nonsquare",
        dict(dim_im_in_x=1, dim_kernel_x=2, padding_x=1, dim_im_out_x=0),
        "dim_im_out_x",
    ),
    ("arm_convolve_HWC_q7_RGB", dict(ch_im_in=4), "ch_im_in"),
    ("arm_convolve_1x1_HWC_q7_fast_nonsquare", dict(dim_kernel_x=3), "dim_kernel_x"),
    ("arm_convolve_1x1_HWC_q7_fast_nonsquare", dict(padding_y=1), "padding_y"),
    ("arm_convolve_1x1_HWC_q7_fast_nonsquare", dict(stride_x=2), "stride_x"),
    ("arm_convolve_1x1_HWC_q7_fast_nonsquare", dict(ch_im_out=3), "ch_im_out"),
    ("arm_convolve_1x1_HWC_q7_fast_nonsquare", dict(dim_im_out_x=9), "dim_im_out_x"),
    ("arm_depthwise_separable_conv_HWC_q7", dict(ch_im_out=8), "ch_im_out"),
    ("arm_depthwise_separable_conv_HWC_q7_nonsquare", dict(ch_im_out=2), "ch_im_out"),
    ("arm_maxpool_q7_HWC", dict(dim_im_out=9), "dim_im_out"),
    ("arm_maxpool_q7_HWC", dict(stride=3, dim_im_out=4), "dim_im_out"),
    ("arm_maxpool_q7_HWC", dict(padding=3), "padding"),
    ("arm_avepool_q7_HWC", dict(dim_kernel=256, dim_im_in=300, dim_im_out=4), "dim_kernel"),
    ("arm_fully_connected_q7", dict(dim_vec=0), "dim_vec"),
    ("arm_fully_connected_q7_opt", dict(num_of_rows=0), "num_of_rows"),
    ("arm_fully_connected_q7_opt", dict(out_shift=31), "out_shift"),
    ("arm_softmax_q7", dict(dim_vec=0), "dim_vec"),
    ("arm_softmax_q7", dict(dim_vec=32768), "dim_vec"),
    ("arm_nn_activations_direct_q7", dict(int_width=4), "int_width"),
    ("arm_nn_activations_direct_q7", dict(type=2), "type"),
    ("arm_relu_q7", dict(size=-1), "size"),
    ("arm_relu_q7", dict(size=1.5), "size"),
    ("arm_relu_q7", dict(size=True), "size"),
]


def test_every_function_has_a_valid_base():
    assert set(BASE) == set(KERNEL_SPECS)
    for fn, params in BASE.items():
        validate_params(fn, params)


@pytest.mark.parametrize("function,overrides,param", BAD, ids=[f"{f}-{p}" for f, _, p in BAD])
def test_rule_raises_naming_parameter(function, overrides, param):
    with pytest.raises(KernelParameterError) as info:
        validate_params(function, dict(BASE[function], **overrides))
    assert param in info.value.message
    assert function in info.value.message
    assert info.value.hint


def test_missing_and_unknown_parameters():
    params = dict(FC)
    del params["out_shift"]
    with pytest.raises(KernelParameterError, match="out_shift"):
        validate_params("arm_fully_connected_q7", params)
    with pytest.raises(KernelParameterError, match="stride"):
        validate_params("arm_fully_connected_q7", dict(FC, stride=1))
    with pytest.raises(KernelParameterError, match="unknown CMSIS-NN function"):
        validate_params("arm_convolve_s8", {})


def _arrays(function):
    spec = KERNEL_SPECS[function]
    p = BASE[function]
    arrays = {spec.input: np.zeros(spec.input_size(p), np.int8)}
    if spec.weights:
        arrays[spec.weights] = np.zeros(spec.weights_size(p), np.int8)
    if spec.bias:
        arrays[spec.bias] = np.zeros(spec.bias_size(p), np.int8)
    return arrays


@pytest.mark.parametrize("function", sorted(KERNEL_SPECS))
def test_array_dtype_and_size(function):
    spec = KERNEL_SPECS[function]
    validate_arrays(function, BASE[function], _arrays(function))
    for name in (spec.input, spec.weights, spec.bias):
        if name is None:
            continue
        arrays = _arrays(function)
        arrays[name] = arrays[name].astype(np.int16)
        with pytest.raises(KernelParameterError, match=f"{name} has dtype int16"):
            validate_arrays(function, BASE[function], arrays)
        arrays[name] = np.zeros(arrays[name].size + 1, np.int8)
        with pytest.raises(KernelParameterError, match=f"{name} has {arrays[name].size} elements"):
            validate_arrays(function, BASE[function], arrays)


def test_weights_and_bias_are_required_but_input_optional():
    arrays = _arrays("arm_fully_connected_q7")
    del arrays["pV"]
    validate_arrays("arm_fully_connected_q7", FC, arrays)
    del arrays["bias"]
    with pytest.raises(KernelParameterError, match="bias is missing"):
        validate_arrays("arm_fully_connected_q7", FC, arrays)
    arrays["bias"] = [0, 0, 0, 0]
    with pytest.raises(KernelParameterError, match="bias is a list"):
        validate_arrays("arm_fully_connected_q7", FC, arrays)


def test_kernel_calls_validate():
    with pytest.raises(KernelParameterError, match="data has dtype float64"):
        call_kernel("arm_relu_q7", data=np.zeros(4), size=4)
    with pytest.raises(KernelParameterError, match="Im_out"):
        call_kernel("arm_maxpool_q7_HWC", Im_in=np.zeros(256, np.int8), Im_out=None, **POOL)
    with pytest.raises(KernelParameterError, match="ch_im_in"):
        get_kernel("arm_convolve_HWC_q7_fast")(
            Im_in=np.zeros(8 * 8 * 3, np.int8),
            wt=np.zeros(2 * 9 * 3, np.int8),
            bias=np.zeros(2, np.int8),
            **dict(SQUARE, ch_im_in=3),
        )


def test_registry_rejects_unknown_names_and_variants():
    with pytest.raises(ConfigError, match="arm_relu_q7"):  # the hint lists valid names
        try:
            get_kernel("arm_relu_q15")
        except ConfigError as exc:
            assert "arm_relu_q15" in exc.message
            raise ConfigError(exc.hint) from exc
    with pytest.raises(ConfigError, match="unknown reference variant 'neon'") as info:
        get_kernel("arm_relu_q7", "neon")
    assert "dsp" in info.value.hint and "plain" in info.value.hint
    with pytest.raises(ConfigError, match="neon"):
        call_kernel("arm_maxpool_q7_HWC", "neon", Im_in=np.zeros(256, np.int8), **POOL)
