"""Import of the CMSIS-NN CIFAR-10 example snapshot (read from ../shared only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hil.errors import ConfigError
from hil.model.cmsis_import import import_cmsis_cifar10_example
from hil.model.examples import build_example
from hil.reference import deinterleave_q7_opt_weights
from hil.reference.network import run_network

SNAPSHOT = ("models", "cmsis-nn-cifar10-example", "example.npz")
STORED_OUTPUTS = (
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
def snapshot(shared_file) -> Path:
    return shared_file(*SNAPSHOT)


@pytest.fixture(scope="module")
def imported(snapshot):
    path = snapshot
    net, x = import_cmsis_cifar10_example(path)
    return net, x, np.load(path)


def test_import_matches_the_example_architecture(imported):
    net, x, snap = imported
    example = build_example("cifar10")
    assert [(l.name, l.function) for l in net.layers] == [
        (l.name, l.function) for l in example.layers
    ]
    assert [l.output_shape for l in net.layers] == [l.output_shape for l in example.layers]
    assert x.shape == (32, 32, 3) and x.dtype == np.int8
    assert net.layers[0].params["bias_shift"] == int(snap["conv1_bias_lshift"])
    ip1 = net.layers[9]
    assert np.array_equal(
        deinterleave_q7_opt_weights(ip1.weights, 512, 10), snap["ip1_wt_rowmajor"]
    )


@pytest.mark.parametrize("variant", ["dsp", "plain"])
def test_reference_reproduces_every_stored_layer(imported, variant):
    net, x, snap = imported
    outputs = run_network(net, x, variant)
    for name, got in zip(STORED_OUTPUTS, outputs, strict=True):
        assert np.array_equal(got, snap[name]), name
    assert int(np.argmax(outputs[-1])) == 8


def test_missing_key_is_named(snapshot, tmp_path):
    data = dict(np.load(snapshot))
    del data["conv2_out_rshift"]
    bad = tmp_path / "bad.npz"
    np.savez(bad, **data)
    with pytest.raises(ConfigError, match="conv2_out_rshift"):
        import_cmsis_cifar10_example(bad)


def test_missing_file():
    with pytest.raises(ConfigError, match="does not exist"):
        import_cmsis_cifar10_example("/nonexistent/example.npz")
