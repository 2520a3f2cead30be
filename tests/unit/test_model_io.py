"""Model files: round trip and the errors a user sees for bad ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hil.errors import ConfigError, KernelParameterError
from hil.model.examples import build_example
from hil.model.hashing import model_hash
from hil.model.io import load_model, save_model


@pytest.fixture(scope="module")
def lenet(tmp_path_factory) -> tuple[Path, Path]:
    return save_model(build_example("lenet5"), tmp_path_factory.mktemp("m") / "lenet5.toml")


def _copy(src: tuple[Path, Path], dst: Path, edit=None, arrays=None) -> Path:
    toml, npz = src
    text = toml.read_text()
    if edit:
        text = edit(text)
    out = dst / "m.toml"
    out.write_text(text)
    data = dict(np.load(npz))
    if arrays:
        data = arrays(data)
    if data is not None:
        np.savez(dst / "m.npz", **data)
    return out


def test_round_trip_keeps_the_network(lenet):
    net = build_example("lenet5")
    loaded = load_model(lenet[0])
    assert model_hash(loaded) == model_hash(net)
    assert loaded.name == net.name and loaded.description == net.description
    assert loaded.input_shape == net.input_shape
    assert [(l.name, l.function, l.params) for l in loaded.layers] == [
        (l.name, l.function, l.params) for l in net.layers
    ]
    assert loaded.metadata == net.metadata


def test_cifar10_round_trip_keeps_interleaved_weights(tmp_path):
    net = build_example("cifar10")
    toml, _ = save_model(net, tmp_path / "c.toml")
    loaded = load_model(toml)
    assert np.array_equal(loaded.layers[9].weights, net.layers[9].weights)
    assert model_hash(loaded) == model_hash(net)


def test_builtin_names_load():
    assert load_model("lenet5").name == "lenet5"


def _replace(old, new):
    return lambda text: text.replace(old, new, 1)


@pytest.mark.parametrize(
    "edit, arrays, match",
    [
        (lambda t: t[: len(t) // 2] + "\n[[layers]\n", None, "malformed TOML"),
        (
            _replace('function = "arm_relu_q7"', 'function = "arm_relu_q15"'),
            None,
            "unknown function 'arm_relu_q15'",
        ),
        (_replace("size = 6272\n", ""), None, "needs parameter"),
        (_replace("size = 6272", "size = 6272\nsizee = 1"), None, "no parameter"),
        (_replace("size = 6272", "size = 6272.0"), None, "not an integer"),
        (_replace("size = 6272", 'size = "6272"'), None, "not an integer"),
        (_replace("size = 6272", "size = 70000"), None, "outside 0..65535"),
        (_replace("size = 6272", "size = 6000"), None, "layer 'relu1'.*6000"),
        (_replace("dim_im_in = 14", "dim_im_in = 13"), None, "layer 'conv2'"),
        (
            _replace("input_shape = [28, 28, 1]", "input_shape = [28, 1, 28]"),
            None,
            "layer 'conv1'.*28x28x1",
        ),
        (_replace("format = 1", "format = 9"), None, "format 9"),
        (_replace("format = 1\n", ""), None, "'format' is missing"),
        (None, lambda d: {k: v for k, v in d.items() if k != "conv2.bias"}, "layer 'conv2'.*bias"),
        (None, lambda d: {**d, "fc1.weights": d["fc1.weights"][:-1]}, "layer 'fc1'.*47999"),
        (None, lambda d: {**d, "fc1.bias": d["fc1.bias"].astype(np.int16)}, "layer 'fc1'.*int16"),
        (None, lambda d: {**d, "relu1.weights": d["fc1.bias"]}, "relu1.weights"),
        (None, lambda d: None, "m.npz is missing"),
    ],
)
def test_bad_files_name_file_layer_and_fix(lenet, tmp_path, edit, arrays, match):
    path = _copy(lenet, tmp_path, edit, arrays)
    with pytest.raises(ConfigError, match=match) as info:
        load_model(path)
    assert str(path.with_suffix("")) in info.value.message
    assert info.value.hint


def test_kernel_rules_apply_on_load(lenet, tmp_path):
    path = _copy(lenet, tmp_path, _replace("out_shift = 8", "out_shift = 31"))
    with pytest.raises(KernelParameterError, match="layer 'conv2'.*out_shift"):
        load_model(path)


def test_unknown_model_lists_examples(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_model("no_such_model")
    assert "lenet5" in info.value.hint and "cifar10" in info.value.hint
    with pytest.raises(ConfigError, match="does not exist"):
        load_model(tmp_path / "absent.toml")


def test_corrupt_npz(lenet, tmp_path):
    path = _copy(lenet, tmp_path)
    path.with_suffix(".npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ConfigError, match="not a readable .npz"):
        load_model(path)
