"""Validation and shape inference of in-memory networks, and the model hash."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hil.errors import ConfigError
from hil.model.examples import build_example
from hil.model.hashing import model_hash
from hil.model.layer import Layer, Network
from hil.model.validate import infer_shapes, validate_network


def _with_layer(net: Network, i: int, **changes) -> Network:
    layers = list(net.layers)
    layers[i] = replace(layers[i], **changes)
    return replace(net, layers=tuple(layers))


def test_shapes_carry_through_elementwise_layers():
    net = Network(
        "v",
        (4, 4, 2),
        (
            Layer("r", "arm_relu_q7", {"size": 32}),
            Layer("a", "arm_nn_activations_direct_q7", {"size": 32, "int_width": 0, "type": 0}),
            Layer(
                "p",
                "arm_maxpool_q7_HWC",
                dict(dim_im_in=4, ch_im_in=2, dim_kernel=2, padding=0, stride=2, dim_im_out=2),
            ),
            Layer("s", "arm_softmax_q7", {"dim_vec": 8}),
        ),
    )
    assert infer_shapes(net) == [(4, 4, 2), (4, 4, 2), (2, 2, 2), (2, 2, 2)]


def test_image_layers_must_chain_in_hwc_not_just_size():
    # 4x4x2 and 2x2x8 have the same size but are different images.
    net = Network(
        "v",
        (4, 4, 2),
        (
            Layer(
                "p",
                "arm_maxpool_q7_HWC",
                dict(dim_im_in=2, ch_im_in=8, dim_kernel=2, padding=0, stride=2, dim_im_out=1),
            ),
        ),
    )
    with pytest.raises(ConfigError, match=r"layer 'p'.*2x2x8.*4x4x2"):
        validate_network(net)


def test_vector_input_may_feed_any_layer_of_its_size():
    net = Network("v", (32,), (Layer("r", "arm_relu_q7", {"size": 32}),))
    assert validate_network(net) == [(32,)]


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(name="bad name"), "layer name 'bad name'"),
        (dict(weights=None), "weights .wt. missing"),
        (dict(weights=np.zeros(199, np.int8)), "199 elements.*reads 200"),
        (dict(bias=np.zeros(8, np.uint8)), "dtype uint8"),
        (dict(function="arm_conv"), "unknown function 'arm_conv'"),
        (dict(params={"dim_im_in": 28}), "needs parameter"),
    ],
)
def test_layer_errors(change, match):
    net = _with_layer(build_example("lenet5"), 0, **change)
    with pytest.raises(ConfigError, match=match) as info:
        validate_network(net, source="x.toml")
    assert info.value.message.startswith("x.toml")


def test_network_level_errors():
    net = build_example("lenet5")
    with pytest.raises(ConfigError, match="input_shape"):
        validate_network(replace(net, input_shape=(28, 28)))
    with pytest.raises(ConfigError, match="no layers"):
        validate_network(replace(net, layers=()))
    dup = _with_layer(net, 1, name="conv1")
    with pytest.raises(ConfigError, match="used twice"):
        validate_network(dup)
    relu_with_weights = _with_layer(net, 1, weights=np.zeros(3, np.int8))
    with pytest.raises(ConfigError, match="takes no weights"):
        validate_network(relu_with_weights)


def test_hash_covers_computation_not_names():
    net = build_example("lenet5")
    h = model_hash(net)
    assert len(h) == 32
    assert model_hash(replace(net, name="other", description="d")) == h
    assert model_hash(_with_layer(net, 0, name="renamed")) == h
    w = net.layers[0].weights.copy()
    w[0] ^= 1
    assert model_hash(_with_layer(net, 0, weights=w)) != h
    p = dict(net.layers[0].params, out_shift=net.layers[0].params["out_shift"] + 1)
    assert model_hash(_with_layer(net, 0, params=p)) != h
    assert model_hash(replace(net, input_shape=(28, 1, 28))) != h
