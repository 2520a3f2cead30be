"""End to end: the CMSIS-NN CIFAR-10 example snapshot, layer by layer.

The network is assembled here from the snapshot's own geometry constants
(independently of hil.model's importer) so the check is of the reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from hil.model import Layer, Network
from hil.reference import deinterleave_q7_opt_weights, interleave_q7_opt_weights
from hil.reference.network import run_layer, run_network

LAYERS = (
    "conv1",
    "relu1",
    "pool1",
    "conv2",
    "relu2",
    "pool2",
    "conv3",
    "relu3",
    "pool3",
    "ip1",
    "softmax",
)


@pytest.fixture(scope="module")
def snap(shared_file):
    with np.load(shared_file("models", "cmsis-nn-cifar10-example", "example.npz")) as d:
        return {k: d[k] for k in d.files}


def _network(s) -> Network:
    g = lambda key: int(s[key])  # noqa: E731
    layers = []
    for i, fn in (
        (1, "arm_convolve_HWC_q7_RGB"),
        (2, "arm_convolve_HWC_q7_fast"),
        (3, "arm_convolve_HWC_q7_fast"),
    ):
        conv = Layer(
            f"conv{i}",
            fn,
            dict(
                dim_im_in=g(f"conv{i}_im_dim"),
                ch_im_in=g(f"conv{i}_im_ch"),
                ch_im_out=g(f"conv{i}_out_ch"),
                dim_kernel=g(f"conv{i}_ker_dim"),
                padding=g(f"conv{i}_padding"),
                stride=g(f"conv{i}_stride"),
                bias_shift=g(f"conv{i}_bias_lshift"),
                out_shift=g(f"conv{i}_out_rshift"),
                dim_im_out=g(f"conv{i}_out_dim"),
            ),
            s[f"conv{i}_wt"],
            s[f"conv{i}_bias"],
        )
        size = conv.output_size
        layers += [
            conv,
            Layer(f"relu{i}", "arm_relu_q7", {"size": size}),
            Layer(
                f"pool{i}",
                "arm_maxpool_q7_HWC",
                dict(
                    dim_im_in=conv.params["dim_im_out"],
                    ch_im_in=conv.params["ch_im_out"],
                    dim_kernel=g(f"pool{i}_ker_dim"),
                    padding=g(f"pool{i}_padding"),
                    stride=g(f"pool{i}_stride"),
                    dim_im_out=g(f"pool{i}_out_dim"),
                ),
            ),
        ]
    layers.append(
        Layer(
            "ip1",
            "arm_fully_connected_q7_opt",
            dict(
                dim_vec=g("ip1_dim"),
                num_of_rows=g("ip1_out"),
                bias_shift=g("ip1_bias_lshift"),
                out_shift=g("ip1_out_rshift"),
            ),
            s["ip1_wt"],
            s["ip1_bias"],
        )
    )
    layers.append(Layer("softmax", "arm_softmax_q7", {"dim_vec": g("ip1_out")}))
    return Network("cifar10-example", (32, 32, 3), tuple(layers))


def test_every_stored_layer_matches(snap):
    net = _network(snap)
    outputs = run_network(net, snap["input_q7"])
    assert [layer.name for layer in net.layers] == list(LAYERS)
    for layer, got in zip(net.layers, outputs):
        want = snap[layer.name]
        assert got.dtype == np.int8
        diff = np.flatnonzero(got != want)
        assert diff.size == 0, f"{layer.name}: first difference at {diff[:1]}"
    assert int(np.argmax(outputs[-1])) == 8
    assert outputs[-1][8] == 127 and np.count_nonzero(outputs[-1]) == 1


def test_each_layer_alone_from_the_stored_input(snap):
    net = _network(snap)
    x = snap["input_q7"]
    for layer in net.layers:
        assert np.array_equal(run_layer(layer, x), snap[layer.name]), layer.name
        x = snap[layer.name]


def test_plain_variant_agrees_here(snap):
    # padding 0, stride 2: the two pooling paths coincide (README of the snapshot).
    outputs = run_network(_network(snap), snap["input_q7"], variant="plain")
    assert np.array_equal(outputs[-1], snap["softmax"])


def test_fc_weights_layouts_agree(snap):
    assert np.array_equal(
        interleave_q7_opt_weights(snap["ip1_wt_rowmajor"], 512, 10), snap["ip1_wt"]
    )
    assert np.array_equal(
        deinterleave_q7_opt_weights(snap["ip1_wt"], 512, 10), snap["ip1_wt_rowmajor"]
    )


def test_rowmajor_weights_in_the_opt_layer_give_wrong_logits(snap):
    # The layout matters: proves the check would catch a layout mix-up.
    net = _network(snap)
    ip1 = net.layers[9]
    wrong = Layer("ip1", ip1.function, ip1.params, snap["ip1_wt_rowmajor"], ip1.bias)
    assert not np.array_equal(run_layer(wrong, snap["pool3"]), snap["ip1"])
