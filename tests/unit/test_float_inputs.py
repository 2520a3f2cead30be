"""Float inputs to q7 HWC: rounding, saturation, the NCHW transpose, and every refusal."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hil.errors import ConfigError
from hil.model.float_inputs import load_run_inputs, quantise_inputs, round_half_away
from hil.model.layer import Layer, Network, Quantisation


def _net(input_shape=(2, 3, 4), float_shape=(4, 2, 3), layout="NCHW", frac=4) -> Network:
    size = int(np.prod(input_shape))
    return Network(
        "n",
        input_shape,
        (Layer("relu", "arm_relu_q7", {"size": size}),),
        quantisation=Quantisation(frac, layout, float_shape, "minmax"),
    )


def test_halves_round_away_from_zero_not_to_even():
    got = round_half_away(np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49, -0.51]))
    assert got.tolist() == [1, 2, 3, -1, -2, -3, 0, -1]


def test_values_scale_round_and_saturate_with_a_count():
    net = _net(input_shape=(6,), float_shape=(6,), layout="HWC", frac=4)
    x = np.array([[0.03125, -0.03125, 1.0, 7.96875, 8.0, -9.0]], dtype=np.float32)
    q7, saturated = quantise_inputs(x, net)
    # 0.5 -> 1, -0.5 -> -1, 16, 127.5 -> 128 clipped, 128 clipped, -144 clipped
    assert q7.dtype == np.int8
    assert q7.tolist() == [[1, -1, 16, 127, 127, -128]]
    assert saturated == 3


def test_nchw_moves_channels_last():
    net = _net()
    x = np.arange(24, dtype=np.float32).reshape(1, 4, 2, 3) / 16  # q7 value = arange
    q7, saturated = quantise_inputs(x, net)
    assert saturated == 0
    assert q7.shape == (1, 2, 3, 4)
    expected = np.arange(24).reshape(4, 2, 3).transpose(1, 2, 0)
    np.testing.assert_array_equal(q7[0], expected)


def test_one_unbatched_tensor_is_one_vector():
    q7, _ = quantise_inputs(np.zeros((4, 2, 3), dtype=np.float32), _net())
    assert q7.shape == (1, 2, 3, 4)


def test_a_model_without_quantisation_refuses_float_inputs():
    net = replace(_net(), quantisation=None)
    with pytest.raises(ConfigError, match=r"no \[quantisation\] table") as e:
        quantise_inputs(np.zeros((1, 4, 2, 3), np.float32), net)
    assert "hil import" in e.value.hint


@pytest.mark.parametrize(
    ("x", "words"),
    [
        (np.zeros((1, 2, 3, 4), np.float32), "shape (1, 2, 3, 4)"),
        (np.zeros((0, 4, 2, 3), np.float32), "shape (0, 4, 2, 3)"),
        (np.full((1, 4, 2, 3), np.nan, np.float32), "24 NaN or infinite"),
        (np.zeros((1, 4, 2, 3), np.int16), "dtype int16"),
    ],
)
def test_bad_float_inputs_are_refused(x, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        quantise_inputs(x, _net())


def test_a_float_shape_that_does_not_give_the_q7_shape_names_the_table():
    net = _net(float_shape=(4, 3, 2))
    with pytest.raises(ConfigError, match="input_float_shape"):
        quantise_inputs(np.zeros((1, 4, 3, 2), np.float32), net)


def test_load_run_inputs_takes_int8_as_before_and_quantises_float(tmp_path):
    net = _net()
    ints = tmp_path / "q7.npy"
    np.save(ints, np.ones((3, 2, 3, 4), np.int8))
    q7, floats, saturated = load_run_inputs(ints, net)
    assert q7.shape == (3, 2, 3, 4) and floats is None and saturated == 0
    fl = tmp_path / "float.npy"
    np.save(fl, np.full((3, 4, 2, 3), 100.0, np.float32))
    q7, floats, saturated = load_run_inputs(fl, net)
    assert (q7 == 127).all() and saturated == 72
    assert floats is not None and floats.shape == (3, 4, 2, 3) and floats.dtype == np.float32


def test_load_run_inputs_names_the_file_in_errors(tmp_path):
    fl = tmp_path / "float.npy"
    np.save(fl, np.zeros((3, 5), np.float32))
    with pytest.raises(ConfigError, match="float.npy: float inputs have shape"):
        load_run_inputs(fl, _net())
    with pytest.raises(ConfigError, match=r"float32, and model n has no \[quantisation\]"):
        load_run_inputs(fl, replace(_net(), quantisation=None))
