"""run_network / run_layer: chaining, caching and input checks."""

from __future__ import annotations

import numpy as np
import pytest

from hil.errors import ConfigError, KernelParameterError
from hil.model import Layer, Network
from hil.reference import call_kernel
from hil.reference.network import layer_plan, run_layer, run_network


def _net() -> Network:
    rng = np.random.default_rng(7)
    conv = Layer(
        "conv",
        "arm_convolve_HWC_q7_basic",
        dict(
            dim_im_in=6,
            ch_im_in=3,
            ch_im_out=4,
            dim_kernel=3,
            padding=1,
            stride=1,
            bias_shift=2,
            out_shift=6,
            dim_im_out=6,
        ),
        rng.integers(-128, 128, 4 * 9 * 3).astype(np.int8),
        rng.integers(-128, 128, 4).astype(np.int8),
    )
    layers = (
        conv,
        Layer("relu", "arm_relu_q7", {"size": 144}),
        Layer(
            "pool",
            "arm_avepool_q7_HWC",
            dict(dim_im_in=6, ch_im_in=4, dim_kernel=3, padding=1, stride=1, dim_im_out=6),
        ),
        Layer(
            "fc",
            "arm_fully_connected_q7",
            dict(dim_vec=144, num_of_rows=5, bias_shift=0, out_shift=9),
            rng.integers(-128, 128, 720).astype(np.int8),
            np.zeros(5, np.int8),
        ),
        Layer("softmax", "arm_softmax_q7", {"dim_vec": 5}),
    )
    return Network("tiny", (6, 6, 3), layers)


def test_outputs_chain_through_the_kernels():
    net = _net()
    x = np.random.default_rng(1).integers(-128, 128, 108).astype(np.int8)
    for variant in ("dsp", "plain"):
        outs = run_network(net, x, variant)
        y = x
        for layer, out in zip(net.layers, outs):
            kwargs = dict(layer.params)
            spec = layer.spec
            kwargs[spec.input] = y
            if spec.weights:
                kwargs[spec.weights], kwargs[spec.bias] = layer.weights, layer.bias
            assert np.array_equal(run_layer(layer, y, variant), out), layer.name
            y = call_kernel(layer.function, variant, **kwargs)
            assert np.array_equal(out, y), layer.name


def test_plans_are_cached_per_layer_and_variant():
    net = _net()
    layer = net.layers[0]
    assert layer_plan(layer, "dsp") is layer_plan(layer, "dsp")
    assert layer_plan(net.layers[2], "dsp") is not layer_plan(net.layers[2], "plain")


def test_input_is_checked():
    net = _net()
    with pytest.raises(ConfigError, match="dtype int16"):
        run_network(net, np.zeros(108, np.int16))
    with pytest.raises(ConfigError, match="107 elements, expected 108"):
        run_network(net, np.zeros(107, np.int8))
    with pytest.raises(ConfigError, match="not a numpy array"):
        run_network(net, [0] * 108)
    with pytest.raises(ConfigError, match="unknown reference variant"):
        run_network(net, np.zeros(108, np.int8), "fast")
    x = np.zeros(108, np.int8)
    run_network(net, x.reshape(6, 6, 3))  # HWC-shaped input is fine


def test_bad_layer_is_named():
    bad = Layer(
        "pool9",
        "arm_maxpool_q7_HWC",
        dict(dim_im_in=4, ch_im_in=1, dim_kernel=2, padding=0, stride=2, dim_im_out=5),
    )
    with pytest.raises(KernelParameterError, match="layer 'pool9'.*dim_im_out"):
        run_layer(bad, np.zeros(16, np.int8))


def test_layers_that_do_not_chain_are_refused():
    net = _net()
    broken = Network("broken", (6, 6, 3), (net.layers[0], net.layers[4]))
    with pytest.raises(ConfigError, match="layer 'softmax' takes 5 elements but gets 144"):
        run_network(broken, np.zeros(108, np.int8))
