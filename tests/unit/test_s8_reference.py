"""The s8 reference against TFLite Micro's interpreter, case by case.

Every case is a seeded random one-op model written by hil's TFLite writer,
lowered by hil's importer and run both through hil.reference.s8 and through
TFLM (tests/helpers/s8_cases.py); 200 per function, every fifth an edge case.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from hil.model.tflite.lower import lower_graph
from hil.reference.s8 import FUNCTIONS, run_layer, run_network
from hil.reference.s8.requantize import (
    INT32_MAX,
    INT32_MIN,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    rdbypot,
    srdhm,
)

from helpers import tflm
from helpers.s8_cases import FUNCTIONS as CASE_FUNCTIONS
from helpers.s8_cases import cases
from helpers.s8_models import small_cnn

CASES = 200


def test_every_function_has_cases():
    assert set(CASE_FUNCTIONS) == set(FUNCTIONS)


@pytest.mark.parametrize("function", CASE_FUNCTIONS)
def test_reference_equals_tflite_micro(function):
    mismatches = []
    for i, case in enumerate(cases(function, CASES, seed=18)):
        got = run_layer(case.layer, case.x)
        if not np.array_equal(got, case.expected):
            diff = int(np.abs(got.astype(int) - case.expected).max())
            mismatches.append(f"case {i}: {np.count_nonzero(got != case.expected)} off, max {diff}")
    assert not mismatches, f"{len(mismatches)} of {CASES} cases differ: {mismatches[:5]}"


@pytest.mark.parametrize("function", CASE_FUNCTIONS)
def test_cases_exercise_the_arithmetic(function):
    """The cases are not degenerate: outputs spread over int8 and the
    parameters vary (a test that always saw one value could not fail)."""
    batch = cases(function, 40, seed=7)
    values = np.concatenate([c.expected for c in batch])
    assert len(np.unique(values)) > 64
    shapes = {tuple(sorted(c.layer.params.items())) for c in batch}
    assert len(shapes) == len(batch)


@pytest.mark.parametrize(
    "function",
    ["arm_convolve_wrapper_s8", "arm_depthwise_conv_wrapper_s8",
     "arm_fully_connected_s8", "arm_fully_connected_per_channel_s8"],
)  # fmt: skip
def test_single_rounding_is_within_one(function):
    """CMSIS_NN_USE_SINGLE_ROUNDING's requantisation: at most 1 LSB from TFLM's
    double rounding, and different somewhere (or the variant would be moot)."""
    batch = cases(function, CASES, seed=18)
    diffs = [run_layer(c.layer, c.x, "single").astype(int) - c.expected for c in batch]
    assert max(int(np.abs(d).max()) for d in diffs) <= 1
    assert any(np.any(d) for d in diffs)


@pytest.mark.parametrize("function", ["arm_max_pool_s8", "arm_avgpool_s8", "arm_softmax_s8"])
def test_single_rounding_leaves_pooling_and_softmax(function):
    for c in cases(function, 50, seed=3):
        assert np.array_equal(run_layer(c.layer, c.x, "single"), c.expected)


def test_whole_cnn_every_layer_equals_tflite_micro():
    graph, x = small_cnn(seed=0)
    net = lower_graph(graph, "cnn")
    index = {t.name: i for i, t in enumerate(graph.tensors)}
    tensors = (index["input"],) + tuple(index[layer.tensor] for layer in net.layers)
    assert [layer.function for layer in net.layers] == [
        "arm_convolve_wrapper_s8", "arm_depthwise_conv_wrapper_s8", "arm_max_pool_s8",
        "arm_convolve_wrapper_s8", "arm_avgpool_s8", "arm_fully_connected_per_channel_s8",
        "arm_fully_connected_s8", "arm_softmax_s8",
    ]  # fmt: skip
    for row in x:
        final, tf_input, *tf_layers = tflm.run(graph, row[None], tensors)
        q = net.input_quant.quantise(row[None])
        assert np.array_equal(q.reshape(-1), tf_input.reshape(-1)), "QUANTIZE differs"
        ours = run_network(net, q)
        for layer, got, want in zip(net.layers, ours, tf_layers, strict=True):
            assert np.array_equal(got, want.reshape(-1)), layer.name
        real = net.layers[-1].output_quant.dequantise(ours[-1])
        assert np.array_equal(real, final.reshape(-1)), "DEQUANTIZE differs"


# ---------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    "real", [1.0, 0.5, 0.75, 1e-9, 3.0, 2.0**-31, 0.999999999999, 123456.789, 2.0**-40]
)
def test_quantize_multiplier_is_exact_to_its_precision(real):
    m, shift = quantize_multiplier(real)
    if real < 2.0**-32:
        assert (m, shift) == (0, 0)  # TFLM flushes multipliers below 2**-31 to zero
        return
    assert (1 << 30) <= m < (1 << 31)
    assert abs(Fraction(m) * Fraction(2) ** (shift - 31) - Fraction(real)) <= Fraction(2) ** (
        shift - 32
    )


def test_quantize_multiplier_carries_a_rounded_up_mantissa():
    # frexp gives 0.99999999999 which rounds to 2**31: TFLM halves it and bumps the shift
    assert quantize_multiplier(0.9999999999999) == (1 << 30, 1)
    assert quantize_multiplier(0.0) == (0, 0)


def test_srdhm_and_rdbypot_round_half_away_from_zero():
    rng = np.random.default_rng(1)
    a = rng.integers(INT32_MIN, INT32_MAX, size=2000, endpoint=True)
    b = rng.integers(INT32_MIN, INT32_MAX, size=2000, endpoint=True)
    for x, y, got in zip(a[:300], b[:300], srdhm(a, b)[:300], strict=True):
        exact = Fraction(int(x) * int(y), 1 << 31)
        assert abs(Fraction(int(got)) - exact) <= Fraction(1, 2)
        if abs(Fraction(int(got)) - exact) == Fraction(1, 2):
            assert abs(got) > abs(exact)
    assert srdhm(np.int64(INT32_MIN), INT32_MIN) == INT32_MAX  # the one saturating case
    e = rng.integers(0, 31, size=2000)
    for x, k, got in zip(a[:300], e[:300], rdbypot(a, e)[:300], strict=True):
        exact = Fraction(int(x), 1 << int(k))
        assert abs(Fraction(int(got)) - exact) <= Fraction(1, 2)
        if abs(Fraction(int(got)) - exact) == Fraction(1, 2):
            assert abs(got) > abs(exact)


def test_single_and_double_rounding_differ_only_on_negative_ties():
    # x * m * 2**(s-31) = -2.5 exactly: double rounding gives -3, single -2
    m, s = 1 << 30, -1  # 0.25
    assert multiply_by_quantized_multiplier(np.int64(-10), m, s, "double") == -3
    assert multiply_by_quantized_multiplier(np.int64(-10), m, s, "single") == -2
    assert multiply_by_quantized_multiplier(np.int64(10), m, s, "double") == 3
    assert multiply_by_quantized_multiplier(np.int64(10), m, s, "single") == 3
