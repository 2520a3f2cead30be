"""Built-in examples: deterministic, valid, activations in a useful range."""

from __future__ import annotations

import numpy as np
import pytest

from hil.errors import ConfigError
from hil.model.examples import EXAMPLES, build_example, example_inputs
from hil.model.hashing import model_hash
from hil.model.validate import infer_shapes, validate_network
from hil.reference.network import run_network


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_are_deterministic_and_valid(name):
    net = build_example(name)
    validate_network(net)
    assert model_hash(net) == model_hash(build_example(name))
    # Rebuilt from scratch (not the cache) the bytes are the same.
    from hil.model.examples import _build

    assert model_hash(_build.__wrapped__(name, 0)) == model_hash(net)
    assert model_hash(build_example(name, seed=1)) != model_hash(net)


@pytest.mark.parametrize("name", EXAMPLES)
def test_activations_neither_saturate_nor_vanish(name):
    net = build_example(name)
    xs = example_inputs(net, 3, seed=123)  # not the calibration inputs
    assert xs.shape == (3, *net.input_shape) and xs.dtype == np.int8
    outs = [run_network(net, x) for x in xs]
    for i, layer in enumerate(net.layers):
        y = np.concatenate([o[i] for o in outs])
        if layer.function == "arm_softmax_q7":
            continue  # a confident softmax saturates by design
        assert np.mean((y == 127) | (y == -128)) < 0.01, layer.name
        assert np.mean(y != 0) > 0.3, layer.name
        assert np.abs(y.astype(int)).max() > 20, layer.name


def test_cifar10_has_the_cmsis_example_architecture():
    net = build_example("cifar10")
    assert [l.function for l in net.layers] == [
        "arm_convolve_HWC_q7_RGB",
        "arm_relu_q7",
        "arm_maxpool_q7_HWC",
        "arm_convolve_HWC_q7_fast",
        "arm_relu_q7",
        "arm_maxpool_q7_HWC",
        "arm_convolve_HWC_q7_fast",
        "arm_relu_q7",
        "arm_maxpool_q7_HWC",
        "arm_fully_connected_q7_opt",
        "arm_softmax_q7",
    ]
    assert infer_shapes(net) == [
        (32, 32, 32),
        (32, 32, 32),
        (16, 16, 32),
        (16, 16, 16),
        (16, 16, 16),
        (8, 8, 16),
        (8, 8, 32),
        (8, 8, 32),
        (4, 4, 32),
        (10,),
        (10,),
    ]


def test_lenet5_shapes_and_macs():
    net = build_example("lenet5")
    assert infer_shapes(net)[-1] == (10,)
    assert infer_shapes(net)[5] == (5, 5, 16)
    conv1 = net.layers[0]
    assert conv1.macs == 28 * 28 * 8 * 25
    assert (
        sum(l.macs for l in net.layers if l.function.startswith("arm_fully"))
        == 400 * 120 + 120 * 84 + 84 * 10
    )


def test_example_inputs_are_seeded():
    net = build_example("lenet5")
    assert np.array_equal(example_inputs(net, 2, 7), example_inputs(net, 2, 7))
    assert not np.array_equal(example_inputs(net, 2, 7), example_inputs(net, 2, 8))


def test_example_arrays_are_read_only():
    layer = build_example("lenet5").layers[0]
    with pytest.raises(ValueError):
        layer.weights[0] = 1


def test_unknown_example():
    with pytest.raises(ConfigError, match="no built-in example 'vgg'") as info:
        build_example("vgg")
    assert "lenet5" in info.value.hint
