"""The kernel registry, C-style calls, no mutation, and the _opt weight layout."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hil.reference as ref
from hil.errors import ConfigError
from hil.reference import (
    call_kernel,
    deinterleave_q7_opt_weights,
    get_kernel,
    interleave_q7_opt_weights,
    plan_kernel,
)
from hil.reference.spec import KERNEL_SPECS, VARIANTS


@pytest.mark.parametrize("name", sorted(KERNEL_SPECS))
def test_each_function_is_registered_under_its_c_name(name):
    spec = KERNEL_SPECS[name]
    fn = get_kernel(name)
    assert fn.__name__ == name and getattr(ref, name) is inspect.unwrap(fn)
    c_params = [a for a in spec.args if a != spec.output or spec.in_place]
    sig = inspect.signature(getattr(ref, name))
    assert [p for p in sig.parameters if p != "variant"] == c_params


def test_in_place_functions_leave_the_callers_array_alone():
    rng = np.random.default_rng(3)
    data = rng.integers(-128, 128, 64).astype(np.int8)
    before = data.copy()
    out = call_kernel("arm_relu_q7", data=data, size=64)
    assert np.array_equal(data, before) and out is not data and out.min() >= 0
    act = call_kernel("arm_nn_activations_direct_q7", data=data, size=64, int_width=1, type=1)
    assert np.array_equal(data, before) and act.dtype == np.int8
    im = rng.integers(-128, 128, 6 * 6 * 2).astype(np.int8)
    im_before = im.copy()
    for variant in VARIANTS:  # the DSP pooling works in place in C; not here
        get_kernel("arm_maxpool_q7_HWC", variant)(
            Im_in=im, dim_im_in=6, ch_im_in=2, dim_kernel=3, padding=2, stride=1, dim_im_out=6
        )
        assert np.array_equal(im, im_before)


def test_pooling_variants_differ_where_format_says():
    # padding >= stride: the DSP in-place pass reads overwritten columns.
    im = np.arange(5 * 5, dtype=np.int8)[::-1].copy()
    kw = dict(Im_in=im, dim_im_in=5, ch_im_in=1, dim_kernel=3, padding=1, stride=1, dim_im_out=5)
    dsp = get_kernel("arm_avepool_q7_HWC", "dsp")(**kw)
    plain = get_kernel("arm_avepool_q7_HWC", "plain")(**kw)
    assert not np.array_equal(dsp, plain)
    # padding <= stride - 1: max pooling agrees.
    kw.update(padding=0, stride=2, dim_im_out=3)
    assert np.array_equal(
        get_kernel("arm_maxpool_q7_HWC", "dsp")(**kw),
        get_kernel("arm_maxpool_q7_HWC", "plain")(**kw),
    )


def test_outputs_are_flat_int8_and_shapes_are_accepted():
    x = np.arange(-8, 8, dtype=np.int8).reshape(2, 2, 4)
    out = call_kernel(
        "arm_convolve_1x1_HWC_q7_fast_nonsquare",
        Im_in=x,
        wt=np.ones(2 * 4, np.int8),
        bias=np.zeros(2, np.int8),
        dim_im_in_x=2,
        dim_im_in_y=2,
        ch_im_in=4,
        ch_im_out=2,
        dim_kernel_x=1,
        dim_kernel_y=1,
        padding_x=0,
        padding_y=0,
        stride_x=1,
        stride_y=1,
        bias_shift=0,
        out_shift=0,
        dim_im_out_x=2,
        dim_im_out_y=2,
    )
    assert out.shape == (8,) and out.dtype == np.int8
    assert out.tolist() == [s for s in x.reshape(4, 4).sum(axis=1) for _ in range(2)]


def test_plan_kernel_reuses_weights():
    w = np.arange(12, dtype=np.int8)
    plan = plan_kernel(
        "arm_fully_connected_q7",
        dict(dim_vec=4, num_of_rows=3, bias_shift=0, out_shift=0),
        w,
        np.zeros(3, np.int8),
    )
    assert plan(np.array([1, 0, 0, 1], np.int8)).tolist() == [3, 11, 19]
    with pytest.raises(ConfigError, match="pM"):
        plan_kernel(
            "arm_fully_connected_q7",
            dict(dim_vec=4, num_of_rows=3, bias_shift=0, out_shift=0),
            None,
            np.zeros(3, np.int8),
        )


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 23), st.integers(1, 13))
def test_interleave_round_trip(dim_vec, rows):
    rowmajor = np.arange(dim_vec * rows, dtype=np.int64).astype(np.int8)
    inter = interleave_q7_opt_weights(rowmajor, dim_vec, rows)
    assert inter.size == rowmajor.size
    assert np.array_equal(deinterleave_q7_opt_weights(inter, dim_vec, rows), rowmajor)
    assert np.array_equal(
        interleave_q7_opt_weights(
            deinterleave_q7_opt_weights(rowmajor, dim_vec, rows), dim_vec, rows
        ),
        rowmajor,
    )


def test_interleave_layout_of_one_block():
    # FORMAT.md: (r0,c)(r1,c)(r0,c+2)(r1,c+2)(r2,c)(r3,c)(r2,c+2)(r3,c+2)(r0,c+1)...
    m = np.array([[10 * r + c for c in range(5)] for r in range(5)], np.int8).reshape(-1)
    inter = interleave_q7_opt_weights(m, 5, 5).tolist()
    assert inter[:16] == [0, 10, 2, 12, 20, 30, 22, 32, 1, 11, 3, 13, 21, 31, 23, 33]
    assert inter[16:20] == [4, 14, 24, 34]  # leftover column of the block
    assert inter[20:] == [40, 41, 42, 43, 44]  # leftover row, row-major


def test_interleave_rejects_bad_sizes():
    with pytest.raises(ConfigError, match="elements"):
        interleave_q7_opt_weights(np.zeros(7, np.int8), 2, 4)
    with pytest.raises(ConfigError, match="dim_vec"):
        deinterleave_q7_opt_weights(np.zeros(0, np.int8), 0, 4)
