"""Built-in example networks with project-generated weights.

``cifar10`` has exactly the architecture of Arm's CMSIS-NN CIFAR-10 example
(its trained weights come in through hil.model.cmsis_import); ``lenet5`` is
a LeNet-5 shape built from the legacy q7 functions. Weights and biases are
seeded Gaussians; each layer's out_shift is calibrated with the host
reference on seeded inputs so activations neither saturate nor vanish.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Callable

import numpy as np

from hil.errors import ConfigError
from hil.model.layer import Layer, Network
from hil.model.validate import validate_network

CALIBRATION_SAMPLES = 4
WEIGHT_STD = 40.0
BIAS_STD = 32.0
TARGET = 100  # the 99.9th percentile of |output| should land at or just below this
PERCENTILE = 99.9
BIAS_HEADROOM = 2  # bias_shift = out_shift - 2: biases span about +-8 output steps
MAX_OUT_SHIFT = 30
MAX_BIAS_SHIFT = 24


# ---------------------------------------------------------------- layer builders


def square_conv(
    name: str, fn: str, dim: int, ch_in: int, ch_out: int, k: int, pad: int, stride: int = 1
) -> Layer:
    """A square convolution layer with zero shifts (a model sets them after)."""
    out = (dim + 2 * pad - k) // stride + 1
    return Layer(
        name,
        fn,
        dict(
            dim_im_in=dim,
            ch_im_in=ch_in,
            ch_im_out=ch_out,
            dim_kernel=k,
            padding=pad,
            stride=stride,
            bias_shift=0,
            out_shift=0,
            dim_im_out=out,
        ),
    )


def _pool(name: str, fn: str, dim: int, ch: int, k: int, stride: int, out: int) -> Layer:
    return Layer(
        name,
        fn,
        dict(dim_im_in=dim, ch_im_in=ch, dim_kernel=k, padding=0, stride=stride, dim_im_out=out),
    )


def _relu(name: str, size: int) -> Layer:
    return Layer(name, "arm_relu_q7", {"size": size})


def _fc(name: str, fn: str, dim_vec: int, rows: int) -> Layer:
    return Layer(name, fn, dict(dim_vec=dim_vec, num_of_rows=rows, bias_shift=0, out_shift=0))


def _softmax(name: str, n: int) -> Layer:
    return Layer(name, "arm_softmax_q7", {"dim_vec": n})


def cifar10_layers() -> tuple[tuple[int, ...], list[Layer]]:
    """Input shape and layers (no weights) of the CMSIS-NN CIFAR-10 example."""
    return (32, 32, 3), [
        square_conv("conv1", "arm_convolve_HWC_q7_RGB", 32, 3, 32, 5, 2),
        _relu("relu1", 32 * 32 * 32),
        _pool("pool1", "arm_maxpool_q7_HWC", 32, 32, 3, 2, 16),
        square_conv("conv2", "arm_convolve_HWC_q7_fast", 16, 32, 16, 5, 2),
        _relu("relu2", 16 * 16 * 16),
        _pool("pool2", "arm_maxpool_q7_HWC", 16, 16, 3, 2, 8),
        square_conv("conv3", "arm_convolve_HWC_q7_fast", 8, 16, 32, 5, 2),
        _relu("relu3", 8 * 8 * 32),
        _pool("pool3", "arm_maxpool_q7_HWC", 8, 32, 3, 2, 4),
        _fc("ip1", "arm_fully_connected_q7_opt", 4 * 4 * 32, 10),
        _softmax("softmax", 10),
    ]


def lenet5_layers() -> tuple[tuple[int, ...], list[Layer]]:
    # conv1 is _basic: the _fast kernel needs ch_im_in % 4 == 0.
    return (28, 28, 1), [
        square_conv("conv1", "arm_convolve_HWC_q7_basic", 28, 1, 8, 5, 2),
        _relu("relu1", 28 * 28 * 8),
        _pool("pool1", "arm_avepool_q7_HWC", 28, 8, 2, 2, 14),
        square_conv("conv2", "arm_convolve_HWC_q7_fast", 14, 8, 16, 5, 0),
        _relu("relu2", 10 * 10 * 16),
        _pool("pool2", "arm_avepool_q7_HWC", 10, 16, 2, 2, 5),
        _fc("fc1", "arm_fully_connected_q7", 400, 120),
        _relu("relu3", 120),
        _fc("fc2", "arm_fully_connected_q7", 120, 84),
        _relu("relu4", 84),
        _fc("fc3", "arm_fully_connected_q7", 84, 10),
        _softmax("softmax", 10),
    ]


_ARCHITECTURES: dict[str, tuple[Callable[[], tuple], str]] = {
    "cifar10": (
        cifar10_layers,
        "Architecture of the CMSIS-NN CIFAR-10 example (seeded random weights, calibrated shifts)",
    ),
    "lenet5": (lenet5_layers, "LeNet-5 on 28x28x1 (seeded random weights, calibrated shifts)"),
}
EXAMPLES = tuple(_ARCHITECTURES)
DEFAULT_MODEL = "cifar10"  # what every command runs when no model is named


# ---------------------------------------------------------------- weights and calibration


def _gaussian_int8(rng: np.random.Generator, n: int, std: float) -> np.ndarray:
    return np.clip(np.rint(rng.normal(0.0, std, n)), -128, 127).astype(np.int8)


def _with_random_arrays(layer: Layer, rng: np.random.Generator) -> Layer:
    spec = layer.spec
    if spec.weights is None:
        return layer
    assert spec.weights_size is not None and spec.bias_size is not None
    weights = _gaussian_int8(rng, spec.weights_size(layer.params), WEIGHT_STD)
    if layer.function == "arm_fully_connected_q7_opt":
        from hil.reference import interleave_q7_opt_weights

        weights = interleave_q7_opt_weights(
            weights, layer.params["dim_vec"], layer.params["num_of_rows"]
        )
    bias = _gaussian_int8(rng, spec.bias_size(layer.params), BIAS_STD)
    return replace(layer, weights=weights, bias=bias)


def _run_layer(layer: Layer, xs: list[np.ndarray], variant: str) -> list[np.ndarray]:
    from hil.reference import plan_kernel

    run = plan_kernel(layer.function, layer.params, layer.weights, layer.bias, variant)
    return [run(x.ravel()) for x in xs]


def _with_shift(layer: Layer, out_shift: int, bias: np.ndarray | None) -> Layer:
    params = dict(
        layer.params,
        out_shift=out_shift,
        bias_shift=min(MAX_BIAS_SHIFT, max(0, out_shift - BIAS_HEADROOM)),
    )
    return replace(layer, params=params, bias=bias)


def _calibrate(layer: Layer, xs: list[np.ndarray], variant: str) -> Layer:
    """Smallest out_shift whose zero-bias outputs stay at or below TARGET (99.9th pct)."""
    zero_bias = np.zeros_like(layer.bias)

    def fits(shift: int) -> bool:
        outs = _run_layer(_with_shift(layer, shift, zero_bias), xs, variant)
        mags = np.abs(np.concatenate(outs).astype(np.int16))
        return float(np.percentile(mags, PERCENTILE)) <= TARGET

    lo, hi = 0, MAX_OUT_SHIFT  # fits(hi) holds for any realistic layer
    while lo < hi:
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid + 1
    return _with_shift(layer, lo, layer.bias)


def example_inputs(network: Network, n: int, seed: int = 0) -> np.ndarray:
    """``n`` seeded random int8 inputs of shape ``(n, *network.input_shape)``."""
    rng = np.random.default_rng([seed, 0x1A9E7])
    return rng.integers(-128, 128, size=(n, *network.input_shape), dtype=np.int8)


def _freeze(layer: Layer) -> Layer:
    for array in (layer.weights, layer.bias):
        if array is not None:
            array.setflags(write=False)
    return layer


@lru_cache(maxsize=8)
def _build(name: str, seed: int) -> Network:
    make_layers, description = _ARCHITECTURES[name]
    input_shape, layers = make_layers()
    rng = np.random.default_rng([seed, len(name)] + [ord(c) for c in name])
    probe = Network(name, input_shape, ())
    xs = list(example_inputs(probe, CALIBRATION_SAMPLES, seed))
    built = []
    for layer in layers:
        layer = _with_random_arrays(layer, rng)
        if layer.bias is not None and "out_shift" in layer.params:
            layer = _calibrate(layer, xs, "dsp")
        xs = _run_layer(layer, xs, "dsp")
        built.append(_freeze(layer))
    network = Network(
        name,
        input_shape,
        tuple(built),
        description=description,
        metadata={"generator": f"hil.model.examples seed={seed}"},
    )
    validate_network(network)
    return network


def build_example(name: str, seed: int = 0) -> Network:
    """The built-in example ``name`` (deterministic for a given seed)."""
    if name not in _ARCHITECTURES:
        raise ConfigError(
            f"no built-in example '{name}'", hint="use one of: " + ", ".join(EXAMPLES)
        )
    return _build(name, int(seed))
