"""hil.validate.random_cases: drawn conformance cases are valid by the reference's own
rules, deterministic per seed, include the edge cases and fit the device's arena."""

from __future__ import annotations

import numpy as np
import pytest

from hil.errors import ConfigError, KernelParameterError
from hil.kernels.catalogue import BIAS_SHIFT_MAX, KERNELS, OUT_SHIFT_MAX
from hil.reference import call_kernel
from hil.reference.spec import KERNEL_SPECS
from hil.reference.validation import NARROW_RANGES, validate_arrays, validate_params
from hil.validate.random_cases import (
    DERIVED,
    SHAPE_DRAWS,
    SHIFTS,
    accumulator_fits,
    arena_need,
    generate_cases,
    generate_set,
    products_per_output,
    select_functions,
)

ARENA = 64 * 1024  # the firmware's default HIL_KERNEL_ARENA_BYTES
FUNCTIONS = sorted(KERNEL_SPECS)
REQUANTISING = [f for f in FUNCTIONS if set(SHIFTS) <= set(KERNEL_SPECS[f].scalars)]


@pytest.fixture(scope="module")
def drawn() -> dict:
    return generate_set(FUNCTIONS, 60, 5, ARENA)


def _by_tag(cases, tag):
    return [c for c in cases if c.case_id.split("_", 1)[1] == tag]


def test_every_catalogue_parameter_has_a_draw():
    for spec in KERNELS:
        for name in spec.scalars:
            base = name[:-2] if name.endswith(("_x", "_y")) else name
            assert name in SHIFTS or name in NARROW_RANGES or base in SHAPE_DRAWS or base == DERIVED


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_case_is_valid_by_the_reference_rules(drawn, function):
    cases = drawn[function]
    assert len(cases) > 60
    for case in cases:
        validate_params(function, case.params)
        validate_arrays(function, case.params, case.arrays)
        assert all(a.dtype == np.int8 and a.ndim == 1 for a in case.arrays.values())
        out = call_kernel(function, "dsp", **case.kwargs)
        assert out.size == KERNEL_SPECS[function].output_size(case.params)


def test_case_ids_number_the_cases_in_order(drawn):
    for cases in drawn.values():
        ids = [c.case_id for c in cases]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert [int(i.split("_")[0]) for i in ids] == list(range(len(ids)))
        assert sum(i.endswith("_rand") for i in ids) == 60
        assert all("_edge_" in i for i in ids if not i.endswith("_rand"))


def _same(a, b) -> bool:
    return (
        a.case_id == b.case_id
        and dict(a.params) == dict(b.params)
        and a.arrays.keys() == b.arrays.keys()
        and all(np.array_equal(a.arrays[k], b.arrays[k]) for k in a.arrays)
    )


def test_deterministic_for_a_seed_and_different_for_another():
    first = generate_set(FUNCTIONS, 10, 42, ARENA)
    again = generate_set(FUNCTIONS, 10, 42, ARENA)
    other = generate_set(FUNCTIONS, 10, 43, ARENA)
    for f in FUNCTIONS:
        assert all(_same(a, b) for a, b in zip(first[f], again[f], strict=True))
        assert not all(_same(a, b) for a, b in zip(first[f], other[f], strict=True))


def test_a_functions_cases_do_not_depend_on_the_others_chosen():
    alone = generate_cases("arm_softmax_q7", 10, 3, ARENA)
    among = generate_set(["arm_relu_q7", "arm_softmax_q7"], 10, 3, ARENA)["arm_softmax_q7"]
    assert all(_same(a, b) for a, b in zip(alone, among, strict=True))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_edge_cases_are_present(drawn, function):
    cases = drawn[function]
    spec = KERNEL_SPECS[function]
    (low,) = _by_tag(cases, "edge_all_min")
    (high,) = _by_tag(cases, "edge_all_max")
    assert all((a == -128).all() for a in low.arrays.values())
    assert all((a == 127).all() for a in high.arrays.values())
    (ones,) = _by_tag(cases, "edge_ones")
    # Every shape parameter is at its lowest, or the rules refuse the lowest.
    for name, value in ones.params.items():
        base = name[:-2] if name.endswith(("_x", "_y")) else name
        if base not in SHAPE_DRAWS or value == SHAPE_DRAWS[base][0]:
            continue
        with pytest.raises(KernelParameterError):
            validate_params(function, {**ones.params, name: SHAPE_DRAWS[base][0]})
    if "ch_im_in" in spec.scalars:
        (dim1,) = _by_tag(cases, "edge_dim1")
        assert {v for k, v in dim1.params.items() if k.startswith("dim_im_in")} == {1}
        assert _by_tag(cases, "edge_ch1")
    if function in REQUANTISING:
        (zero,) = _by_tag(cases, "edge_zero_shifts")
        assert (zero.params["bias_shift"], zero.params["out_shift"]) == (0, 0)
        (bias,) = _by_tag(cases, "edge_max_bias_shift")
        assert bias.params["bias_shift"] == BIAS_SHIFT_MAX
        (out,) = _by_tag(cases, "edge_max_out_shift")
        assert out.params["out_shift"] == OUT_SHIFT_MAX


def test_vector_functions_see_every_int8_value(drawn):
    every = [c for c in drawn["arm_nn_activations_direct_q7"] if "every_value" in c.case_id]
    settings = {(c.params["int_width"], c.params["type"]) for c in every}
    assert settings == {(w, t) for w in range(4) for t in range(2)}
    for function in ("arm_relu_q7", "arm_softmax_q7", "arm_nn_activations_direct_q7"):
        case = next(c for c in drawn[function] if "every_value" in c.case_id)
        values = case.arrays[KERNEL_SPECS[function].input]
        assert sorted(values.tolist()) == list(range(-128, 128))


@pytest.mark.parametrize("function", REQUANTISING)
def test_shifts_cover_their_whole_ranges_without_overflow(function):
    cases = generate_cases(function, 200, 11, ARENA)
    spec = KERNEL_SPECS[function]
    bias = {c.params["bias_shift"] for c in cases}
    out = {c.params["out_shift"] for c in cases}
    assert {0, BIAS_SHIFT_MAX} <= bias and {0, OUT_SHIFT_MAX} <= out
    assert len(out) > 20
    for c in cases:
        p = c.params
        assert accumulator_fits(p["bias_shift"], p["out_shift"], products_per_output(spec, p))


def test_the_accumulator_bound_is_exact_for_fully_connected_cases():
    # Worst-case data for the shape: the accumulator of the bound is what C adds up.
    for case in generate_cases("arm_fully_connected_q7", 100, 2, ARENA):
        p = case.params
        bias = case.arrays["bias"].astype(np.int64) << p["bias_shift"]
        acc = bias + ((1 << p["out_shift"]) >> 1)
        w = case.arrays["pM"].astype(np.int64).reshape(p["num_of_rows"], p["dim_vec"])
        acc = acc + w @ case.arrays["pV"].astype(np.int64)
        assert (np.abs(acc) < 2**31).all()
    assert not accumulator_fits(BIAS_SHIFT_MAX, OUT_SHIFT_MAX, 1)
    assert accumulator_fits(BIAS_SHIFT_MAX, 24, 511) and not accumulator_fits(
        BIAS_SHIFT_MAX, 24, 512
    )


def test_full_range_data():
    values = np.concatenate(
        [
            a
            for c in generate_cases("arm_convolve_HWC_q7_basic", 50, 0, ARENA)
            if "rand" in c.case_id
            for a in c.arrays.values()
        ]
    )
    assert values.min() == -128 and values.max() == 127
    assert len(np.unique(values)) == 256


def test_arena_need_mirrors_the_device_layout():
    relu = KERNEL_SPECS["arm_relu_q7"]
    # input and output 5 bytes -> 12 each with the pad and alignment; empty weights
    # and bias keep their 4 pad bytes; no scratch.
    assert arena_need(relu, {"size": 5}) == 12 + 4 + 4 + 12
    fc = KERNEL_SPECS["arm_fully_connected_q7"]
    p = {"dim_vec": 10, "num_of_rows": 3, "bias_shift": 0, "out_shift": 0}
    # pV 10 -> 16, pM 30 -> 36, bias 3 -> 8, pOut 3 -> 8, vec_buffer 2 * 10
    assert arena_need(fc, p) == 16 + 36 + 8 + 8 + 20


@pytest.mark.parametrize("arena", [4096, 16384])
def test_cases_fit_the_arena_they_are_drawn_for(arena):
    cases = generate_set(FUNCTIONS, 30, 1, arena)
    for f, fcases in cases.items():
        assert all(arena_need(KERNEL_SPECS[f], c.params) <= arena for c in fcases)
    big = generate_set(["arm_fully_connected_q7"], 30, 1, ARENA)["arm_fully_connected_q7"]
    assert any(arena_need(KERNEL_SPECS["arm_fully_connected_q7"], c.params) > 4096 for c in big)


def test_an_arena_too_small_for_any_case_is_one_error():
    with pytest.raises(ConfigError) as err:
        generate_cases("arm_convolve_HWC_q7_basic", 1, 0, 32)
    assert "kernel arena of 32 bytes" in err.value.message
    assert "HIL_KERNEL_ARENA_BYTES" in err.value.hint


def test_select_functions():
    assert select_functions() == FUNCTIONS
    assert select_functions(["arm_relu_q7", "arm_softmax_q7"], ["arm_relu_q7"]) == [
        "arm_softmax_q7"
    ]
    with pytest.raises(ConfigError, match="--function arm_relu_q8"):
        select_functions(["arm_relu_q8"])
    with pytest.raises(ConfigError, match="--skip-function arm_relu_q8"):
        select_functions(skip=["arm_relu_q8"])
    with pytest.raises(ConfigError, match="leaves no function"):
        select_functions(["arm_relu_q7"], ["arm_relu_q7"])
