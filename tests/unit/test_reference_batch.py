"""The batched reference: every plan on a batch equals the same plan image by image.

run_network_batch and the batch route of each kernel (plan(x) with x of shape
(N, in)) must be bit for bit what looping the single-image path gives, for
every function in the registry and both variants, and must reproduce the
genuine library's golden vectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hil.errors import ConfigError, KernelParameterError
from hil.model.cmsis_import import import_cmsis_cifar10_example
from hil.model.examples import build_example, example_inputs
from hil.reference import PLANNERS, call_kernel, plan_kernel
from hil.reference._core import F32_EXACT, plan_dot
from hil.reference.network import run_network, run_network_batch
from hil.reference.spec import KERNEL_SPECS, VARIANT_DEPENDENT, VARIANTS
from hil.validate.conformance import load_case

FUNCTIONS = sorted(KERNEL_SPECS)
CASES_PER_FUNCTION = 12


def _square_geometry(rng: np.random.Generator, pooling: bool) -> dict[str, int]:
    k = int(rng.integers(1, 6))
    pad = int(rng.integers(0, k))
    stride = int(rng.integers(1, 4 if pooling else 3))
    d_in = int(rng.integers(max(1, k - 2 * pad), 13))
    d_out = (d_in + 2 * pad - k) // stride + 1
    return dict(dim_im_in=d_in, dim_kernel=k, padding=pad, stride=stride, dim_im_out=d_out)


def _nonsquare_geometry(rng: np.random.Generator, one_by_one: bool) -> dict[str, int]:
    g: dict[str, int] = {}
    for axis in ("x", "y"):
        k = 1 if one_by_one else int(rng.integers(1, 6))
        pad = 0 if one_by_one else int(rng.integers(0, k))
        stride = 1 if one_by_one else int(rng.integers(1, 3))
        d_in = int(rng.integers(max(1, k - 2 * pad), 11))
        g |= {
            f"dim_im_in_{axis}": d_in,
            f"dim_kernel_{axis}": k,
            f"padding_{axis}": pad,
            f"stride_{axis}": stride,
            f"dim_im_out_{axis}": (d_in + 2 * pad - k) // stride + 1,
        }
    return g


def _shifts(rng: np.random.Generator) -> dict[str, int]:
    # Mostly realistic shifts (the float32 batch route); a quarter large
    # enough that the bias alone passes 2^24 (the int64 route, maybe the wrap).
    if rng.random() < 0.25:
        return dict(bias_shift=int(rng.integers(17, 25)), out_shift=int(rng.integers(20, 31)))
    return dict(bias_shift=int(rng.integers(0, 8)), out_shift=int(rng.integers(0, 13)))


def _draw_params(name: str, rng: np.random.Generator) -> dict[str, int]:
    """Random scalar parameters of the right family; validation sorts out the rest."""
    args = set(KERNEL_SPECS[name].args)
    ch_in = int(rng.choice([1, 2, 3, 4, 8, 12]))
    ch_out = ch_in if "depthwise" in name else int(rng.choice([1, 2, 4, 6, 8]))
    if "dim_im_in" in args and "wt" not in args:  # pooling
        return dict(ch_im_in=ch_in, **_square_geometry(rng, pooling=True))
    if "dim_im_in" in args:
        return dict(ch_im_in=ch_in, ch_im_out=ch_out, **_square_geometry(rng, False))
    if "dim_im_in_x" in args:
        geometry = _nonsquare_geometry(rng, one_by_one="1x1" in name)
        return dict(ch_im_in=ch_in, ch_im_out=ch_out, **geometry, **_shifts(rng))
    if "num_of_rows" in args:
        return dict(dim_vec=int(rng.integers(1, 300)), num_of_rows=int(rng.integers(1, 40)))
    if "int_width" in args:
        return dict(size=int(rng.integers(1, 300)), int_width=int(rng.integers(0, 4)),
                    type=int(rng.integers(0, 2)))  # fmt: skip
    if "dim_vec" in args:  # softmax
        return dict(dim_vec=int(rng.integers(1, 400)))
    return dict(size=int(rng.integers(1, 300)))  # relu


def _arrays(name: str, params: dict[str, int], rng: np.random.Generator):
    spec = KERNEL_SPECS[name]
    if not spec.weights:
        return None, None
    assert spec.weights_size and spec.bias_size
    span = int(rng.choice([128, 16]))  # full range, and small weights as trained nets have
    w = rng.integers(-span, span, spec.weights_size(params)).astype(np.int8)
    b = rng.integers(-128, 128, spec.bias_size(params)).astype(np.int8)
    return w, b


def random_cases(name: str, count: int, seed: int):
    """``count`` valid (params, weights, bias) of ``name``, by rejection sampling."""
    rng = np.random.default_rng(seed)
    spec = KERNEL_SPECS[name]
    cases = []
    for _ in range(2000):
        params = _draw_params(name, rng)
        if "bias_shift" in spec.args and "bias_shift" not in params:
            params |= _shifts(rng)
        w, b = _arrays(name, params, rng)
        try:
            plan_kernel(name, params, w, b)
        except KernelParameterError:
            continue
        cases.append((params, w, b))
        if len(cases) == count:
            return cases
    raise AssertionError(f"{name}: only {len(cases)} valid random cases")


def _batch(size: int, rng: np.random.Generator, n: int = 6) -> np.ndarray:
    """Random rows plus the extremes, where saturation and wrap show."""
    rows = [rng.integers(-128, 128, size), np.full(size, -128), np.full(size, 127)]
    rows += [rng.integers(-128, 128, size) for _ in range(n - 3)]
    return np.stack(rows).astype(np.int8)


def _assert_batch_equals_loop(plan, xs: np.ndarray) -> np.ndarray:
    before = xs.copy()
    got = plan(xs)
    assert got.dtype == np.int8 and got.shape[0] == xs.shape[0]
    for i, x in enumerate(xs):
        assert np.array_equal(got[i], plan(x)), f"row {i}"
    assert np.array_equal(xs, before)  # the batch is never written
    return got


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_batch_equals_loop_on_random_cases(name, variant):
    spec = KERNEL_SPECS[name]
    rng = np.random.default_rng(FUNCTIONS.index(name))
    for params, w, b in random_cases(name, CASES_PER_FUNCTION, seed=FUNCTIONS.index(name)):
        plan = plan_kernel(name, params, w, b, variant)
        xs = _batch(spec.input_size(params), rng)
        got = _assert_batch_equals_loop(plan, xs)
        # ... and the single path is the C-style call's result.
        kwargs: dict[str, Any] = dict(params, **{spec.input: xs[0]})
        if spec.weights:
            kwargs |= {spec.weights: w, spec.bias: b}
        assert np.array_equal(got[0], call_kernel(name, variant, **kwargs))


def test_random_cases_cover_both_requantisation_routes():
    # The float32 route must not be all the batch tests exercise.
    routes = set()
    for name in ("arm_convolve_HWC_q7_basic", "arm_fully_connected_q7"):
        for params, w, b in random_cases(name, CASES_PER_FUNCTION, FUNCTIONS.index(name)):
            k = w.size // b.size
            offset = (int(np.abs(b.astype(np.int64)).max()) << params["bias_shift"]) + (
                (1 << params["out_shift"]) >> 1
            )
            routes.add(
                k * max(int(np.abs(w.astype(np.int16)).max()), 1) * 128 + offset <= F32_EXACT
            )
    assert routes == {True, False}


def test_batches_wrap_the_accumulator_like_the_silicon():
    # 127<<24 + 2^29 + 4·127·127 passes int32: the result wraps negative (-2).
    v = np.full(4, 127, np.int8)
    plan = plan_kernel(
        "arm_fully_connected_q7",
        dict(dim_vec=4, num_of_rows=1, bias_shift=24, out_shift=30),
        v.copy(),
        np.array([127], np.int8),
    )
    assert plan(np.stack([v, v])).tolist() == [[-2], [-2]]


def test_plan_dot_float_route_rounds_half_up_and_saturates():
    # acc = x·1 + (bias << 1) + R with R = 2 at out_shift 2: ties go up, then clip.
    run = plan_dot(np.ones((1, 1), np.int8), np.array([0], np.int8), 1, 2)
    rows = np.array([[-128], [-6], [-2], [2], [6], [127]], np.int8)
    # floor((x + 2) / 4): -126/4 -> -32, -1, 0, 1, 2, 129/4 -> 32
    assert run(rows.astype(np.float32)).tolist() == [[-32], [-1], [0], [1], [2], [32]]
    big = plan_dot(np.full((1, 2), 127, np.int8), np.array([127], np.int8), 0, 0)
    assert big(np.array([[127, 127], [-128, -128]], np.float32)).tolist() == [[127], [-128]]


# --- golden vectors through the batch route ----------------------------------------


def _golden_batches(folder, function: str, variant: str) -> int:
    spec = KERNEL_SPECS[function]
    rng = np.random.default_rng(0)
    checked = 0
    for path in sorted((folder / function).glob("*.npz")):
        kwargs, expected = load_case(path, function)
        x = np.asarray(kwargs.pop(spec.input), dtype=np.int8).reshape(-1)
        w = kwargs.pop(spec.weights) if spec.weights else None
        b = kwargs.pop(spec.bias) if spec.bias else None
        plan = plan_kernel(function, kwargs, w, b, variant)
        # The case's input sits between two random rows: no row may leak into another.
        noise = rng.integers(-128, 128, (2, x.size)).astype(np.int8)
        got = _assert_batch_equals_loop(plan, np.stack([noise[0], x, noise[1]]))
        assert np.array_equal(got[1], expected.reshape(-1)), path.name
        checked += 1
    return checked


@pytest.mark.parametrize("function", FUNCTIONS)
def test_golden_vectors_through_the_batch_route(vectors_dir, function):
    assert _golden_batches(vectors_dir, function, "dsp") > 0


@pytest.mark.parametrize("function", sorted(VARIANT_DEPENDENT))
def test_plain_golden_pooling_through_the_batch_route(plain_vectors_dir, function):
    assert _golden_batches(plain_vectors_dir, function, "plain") == 48


# --- whole networks --------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("model", ["cifar10", "lenet5"])
def test_examples_batch_equals_loop(model, variant):
    net = build_example(model)
    xs = example_inputs(net, 11, seed=3).reshape(11, *net.input_shape)
    # chunk_size 4 splits 11 images unevenly: chunk edges must not matter.
    batch = run_network_batch(net, xs, variant, chunk_size=4)
    assert [out.shape for out in batch] == [(11, layer.output_size) for layer in net.layers]
    for i, x in enumerate(xs):
        for layer, got, want in zip(net.layers, batch, run_network(net, x, variant)):
            assert np.array_equal(got[i], want), f"image {i}, layer {layer.name}"
    assert all(np.array_equal(a, b) for a, b in zip(batch, run_network_batch(net, xs, variant)))


def test_cifar10_snapshot_batch_equals_loop(shared_file):
    # Arm's trained weights and its sample image, beside random images.
    net, image = import_cmsis_cifar10_example(
        shared_file("models", "cmsis-nn-cifar10-example", "example.npz")
    )
    xs = np.random.default_rng(5).integers(-128, 128, (5, *net.input_shape)).astype(np.int8)
    xs[2] = image.reshape(net.input_shape)
    batch = run_network_batch(net, xs)
    for i, x in enumerate(xs):
        assert all(np.array_equal(b[i], o) for b, o in zip(batch, run_network(net, x)))


def test_flat_rows_and_empty_batches_are_accepted():
    net = build_example("lenet5")
    xs = example_inputs(net, 3, seed=1).reshape(3, -1)
    shaped = run_network_batch(net, xs.reshape(3, *net.input_shape))
    assert all(np.array_equal(a, b) for a, b in zip(run_network_batch(net, xs), shaped))
    empty = run_network_batch(net, xs[:0])
    assert [e.shape for e in empty] == [(0, layer.output_size) for layer in net.layers]


@pytest.mark.parametrize(
    "inputs, match",
    [
        (np.zeros((2, 28, 28, 1), np.int16), "dtype int16"),
        (np.zeros((2, 28, 28), np.int8), r"shape \(2, 28, 28\), expected \(N, 28, 28, 1\)"),
        (np.zeros(784, np.int8), "shape"),
        ([[0] * 784], "not a numpy array"),
    ],
)
def test_bad_batches_are_refused(inputs, match):
    with pytest.raises(ConfigError, match=match):
        run_network_batch(build_example("lenet5"), inputs)


@pytest.mark.parametrize("chunk", [0, -1, 2.5, True])
def test_bad_chunk_sizes_are_refused(chunk):
    net = build_example("lenet5")
    with pytest.raises(ConfigError, match="chunk size"):
        run_network_batch(net, np.zeros((1, *net.input_shape), np.int8), chunk_size=chunk)


def test_every_registered_function_is_covered():
    assert set(PLANNERS) == set(FUNCTIONS)


# --- hil bench reference --batch ---------------------------------------------------


def test_bench_batch_times_every_run():
    from hil.bench.reference import bench_batch

    result = bench_batch(build_example("lenet5"), images=40, repeat=2, chunk_size=16)
    assert result.images == 40 and result.chunk_size == 16 and len(result.batch_s) == 2
    assert result.images_per_second == pytest.approx(40 / result.median_s)
    with pytest.raises(ConfigError, match="--batch 0"):
        bench_batch(build_example("lenet5"), images=0)


def test_cli_bench_reference_batch_prints_images_per_second(capsys):
    from hil.cli import main

    args = ["bench", "reference", "--model", "lenet5", "--batch", "50", "--repeat", "1"]
    assert main(args) == 0
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert "50 images per batch, chunks of 32, 1 run" in lines[0]
    rate, unit = lines[-1].split(" ", 1)
    assert unit == "images per second" and float(rate.replace(",", "")) > 0
