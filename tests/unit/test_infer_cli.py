"""`hil infer`: the host reference over a batch, written as .npy or .npz."""

from __future__ import annotations

import numpy as np
import pytest

from hil.cli import main
from hil.model.examples import build_example
from hil.model.inputs import generated_inputs
from hil.reference.network import run_network


@pytest.fixture
def inputs(tmp_path):
    x = generated_inputs(build_example("lenet5"), 3, seed=5)
    path = tmp_path / "x.npy"
    np.save(path, x)
    return path, x


def test_the_last_layer_equals_the_reference_per_vector(inputs, tmp_path, capsys):
    path, x = inputs
    out = tmp_path / "y.npy"
    assert main(["infer", "-m", "lenet5", "--inputs", str(path), "--output", str(out)]) == 0
    got = np.load(out)
    net = build_example("lenet5")
    expected = np.stack([run_network(net, v, "dsp")[-1] for v in x])
    assert got.dtype == np.int8 and np.array_equal(got, expected)
    assert "the last layer of lenet5 for 3 inputs" in capsys.readouterr().out


def test_every_layer_by_name_with_layers(inputs, tmp_path):
    path, x = inputs
    out = tmp_path / "y.npz"
    args = ["infer", "-m", "lenet5", "--inputs", str(path), "--output", str(out), "--layers"]
    assert main(args + ["--variant", "plain"]) == 0
    net = build_example("lenet5")
    with np.load(out) as got:
        assert list(got) == [layer.name for layer in net.layers]
        for k, layer in enumerate(net.layers):
            expected = np.stack([run_network(net, v, "plain")[k] for v in x])
            assert np.array_equal(got[layer.name], expected)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--output", "{tmp}/y.npz"], "the last layer goes to a .npy file"),
        (["--output", "{tmp}/y.npy", "--layers"], "--layers writes a .npz file"),
        (["--output", "{tmp}/y.npy", "--variant", "neon"], "unknown reference variant 'neon'"),
        (["--output", "{tmp}"], "--output"),
    ],
)
def test_bad_options_are_one_line(inputs, tmp_path, capsys, extra, words):
    path, _ = inputs
    args = ["infer", "-m", "lenet5", "--inputs", str(path)]
    assert main(args + [a.replace("{tmp}", str(tmp_path)) for a in extra]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "y.npy").exists() and not (tmp_path / "y.npz").exists()


def test_inputs_of_the_wrong_shape_are_refused(tmp_path, capsys):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((2, 5), np.int8))
    out = tmp_path / "y.npy"
    assert main(["infer", "-m", "lenet5", "--inputs", str(bad), "--output", str(out)]) == 2
    assert "have shape (2, 5)" in capsys.readouterr().err and not out.exists()
