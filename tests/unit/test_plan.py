"""The ping-pong buffer plan and the scratch sizing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.errors import ConfigError
from hil.firmware.plan import plan_memory, scratch_q15
from hil.model.layer import Layer, Network
from hil.model.validate import validate_network


def _relu(name, n):
    return Layer(name, "arm_relu_q7", {"size": n})


def _fc(name, dim_vec, rows, fn="arm_fully_connected_q7"):
    return Layer(
        name,
        fn,
        {"dim_vec": dim_vec, "num_of_rows": rows, "bias_shift": 0, "out_shift": 7},
        np.zeros(dim_vec * rows, np.int8),
        np.zeros(rows, np.int8),
    )


def _conv(name, fn, dim, ch_in, ch_out, k, pad, stride=1):
    out = (dim + 2 * pad - k) // stride + 1
    p = dict(
        dim_im_in=dim,
        ch_im_in=ch_in,
        ch_im_out=ch_out,
        dim_kernel=k,
        padding=pad,
        stride=stride,
        bias_shift=0,
        out_shift=7,
        dim_im_out=out,
    )
    return Layer(name, fn, p, np.zeros(ch_out * k * k * ch_in, np.int8), np.zeros(ch_out, np.int8))


def _pool(name, fn, dim, ch, k, s, out):
    return Layer(
        name,
        fn,
        dict(dim_im_in=dim, ch_im_in=ch, dim_kernel=k, padding=0, stride=s, dim_im_out=out),
    )


def test_ping_pong_and_in_place():
    net = Network(
        "n",
        (8, 8, 3),
        (
            _conv("c1", "arm_convolve_HWC_q7_RGB", 8, 3, 4, 3, 1),  # 192 -> 256
            _relu("r1", 256),
            _pool("p1", "arm_maxpool_q7_HWC", 8, 4, 2, 2, 4),  # 256 -> 64
            _fc("f1", 64, 10),
            Layer("s", "arm_softmax_q7", {"dim_vec": 10}),
        ),
    )
    plan = plan_memory(net)
    a, b = plan.buffer_offsets
    assert a == 0 and plan.input_offset == a
    slots = [(s.in_offset, s.out_offset) for s in plan.layers]
    assert slots == [(a, b), (b, b), (b, a), (a, b), (b, a)]
    assert plan.layers[1].in_place and not plan.layers[0].in_place
    # A holds the input (+1 byte the RGB kernel over-reads), pool out, softmax out.
    assert plan.buffer_sizes == (196, 256)
    assert b == 196 and plan.arena_size == 452
    assert all(o % 4 == 0 for o in plan.buffer_offsets)
    assert plan.output_offset == a
    assert plan.scratch_size == max(2 * 3 * 9, 64)


@pytest.mark.parametrize(
    "layer, expected",
    [
        (_conv("c", "arm_convolve_HWC_q7_basic", 6, 5, 2, 3, 1), 2 * 5 * 9),
        (_conv("c", "arm_convolve_HWC_q7_fast", 6, 8, 2, 5, 2), 2 * 8 * 25),
        (_conv("c", "arm_convolve_HWC_q7_RGB", 6, 3, 2, 5, 2), 2 * 3 * 25),
        (
            Layer(
                "c",
                "arm_convolve_1x1_HWC_q7_fast_nonsquare",
                dict(
                    dim_im_in_x=4,
                    dim_im_in_y=3,
                    ch_im_in=12,
                    ch_im_out=2,
                    dim_kernel_x=1,
                    dim_kernel_y=1,
                    padding_x=0,
                    padding_y=0,
                    stride_x=1,
                    stride_y=1,
                    bias_shift=0,
                    out_shift=0,
                    dim_im_out_x=4,
                    dim_im_out_y=3,
                ),
            ),
            24,
        ),
        (
            Layer(
                "c",
                "arm_convolve_HWC_q7_basic_nonsquare",
                dict(
                    dim_im_in_x=6,
                    dim_im_in_y=5,
                    ch_im_in=3,
                    ch_im_out=2,
                    dim_kernel_x=3,
                    dim_kernel_y=2,
                    padding_x=0,
                    padding_y=0,
                    stride_x=1,
                    stride_y=1,
                    bias_shift=0,
                    out_shift=0,
                    dim_im_out_x=4,
                    dim_im_out_y=4,
                ),
            ),
            2 * 3 * 6,
        ),
        (
            Layer(
                "d",
                "arm_depthwise_separable_conv_HWC_q7",
                dict(
                    dim_im_in=5,
                    ch_im_in=7,
                    ch_im_out=7,
                    dim_kernel=3,
                    padding=1,
                    stride=1,
                    bias_shift=0,
                    out_shift=0,
                    dim_im_out=5,
                ),
            ),
            32,
        ),  # ceil(7*9 / 2)
        (_pool("p", "arm_avepool_q7_HWC", 8, 6, 2, 2, 4), 4 * 6),
        (_pool("p", "arm_maxpool_q7_HWC", 8, 6, 2, 2, 4), 0),
        (_fc("f", 33, 5, "arm_fully_connected_q7_opt"), 33),
        (_relu("r", 9), 0),
    ],
)
def test_scratch_sizes(layer, expected):
    assert scratch_q15(layer) == expected


def test_buffers_sized_by_largest_tensor_each_holds():
    net = Network("n", (100,), (_fc("a", 100, 7), _fc("b", 7, 300), _fc("c", 300, 2)))
    plan = plan_memory(net)
    assert plan.buffer_sizes == (300, 8)  # A: 100 in, 300 out of b; B: 7 -> 8
    assert [s.out_offset for s in plan.layers] == [300, 0, 300]


def test_chain_mismatch_is_a_config_error():
    net = Network("n", (10,), (_fc("a", 10, 7), _relu("r", 8)))
    with pytest.raises(ConfigError, match="layer 'r'"):
        plan_memory(net)


def test_network_input_must_match_the_first_image_layer():
    pool = _pool("p", "arm_maxpool_q7_HWC", 4, 2, 2, 2, 2)
    with pytest.raises(ConfigError, match="network input"):
        validate_network(Network("n", (32,), (pool,)))
    assert validate_network(Network("n", (4, 4, 2), (pool,))) == [(2, 2, 2)]


def _random_chain(sizes_and_kinds):
    layers, size = [], sizes_and_kinds[0][0]
    first = size
    for i, (n, relu) in enumerate(sizes_and_kinds[1:]):
        layers.append(_relu(f"r{i}", size) if relu else _fc(f"f{i}", size, n))
        size = size if relu else n
    return Network("n", (first,), tuple(layers))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 300), st.booleans()), min_size=2, max_size=12))
def test_plan_invariants(chain):
    net = _random_chain(chain)
    plan = plan_memory(net)
    assert plan.buffer_offsets[1] == plan.buffer_sizes[0]
    assert all(s % 4 == 0 for s in plan.buffer_sizes)
    prev_out = plan.input_offset
    for layer, slot in zip(net.layers, plan.layers):
        assert slot.in_offset == prev_out  # each layer reads what the last wrote
        ends = []
        for off, size in ((slot.in_offset, slot.in_size), (slot.out_offset, slot.out_size)):
            buf = plan.buffer_offsets.index(off)
            assert size <= plan.buffer_sizes[buf]  # fits its buffer, inside the arena
            ends.append(off + size)
        if layer.spec.in_place:
            assert slot.in_place
        else:  # input and output never overlap
            assert ends[0] <= slot.out_offset or ends[1] <= slot.in_offset
        prev_out = slot.out_offset
    assert plan.arena_size == sum(plan.buffer_sizes)
