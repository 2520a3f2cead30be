"""Power-of-two formats, shifts that cannot go negative, calibration methods, layouts,
diagnostics, and the model file's [quantisation] table."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hil.errors import ConfigError
from hil.model.diagnostics import layer_metrics, output_metrics, top1
from hil.model.examples import build_example
from hil.model.hashing import model_hash
from hil.model.importer import layout
from hil.model.importer.calibrate import choose_frac_bits, frac_bits_for_range
from hil.model.importer.ops import Dense
from hil.model.importer.quantise import quantise, to_q7
from hil.model.io import load_model_file, save_model
from hil.model.layer import Quantisation
from hil.reference import deinterleave_q7_opt_weights


@pytest.mark.parametrize("r, n", [(1.0, 7), (0.9, 7), (1.5, 6), (0.3, 8), (100.0, 0), (200, -1)])
def test_frac_bits_from_the_range(r, n):
    assert frac_bits_for_range(r) == n


def test_weights_round_and_saturate_never_wrap():
    q, saturated = to_q7(np.array([0.999, 1.0, -1.0, -1.01, 0.5 / 128, -0.5 / 128]), 7)
    assert q.tolist() == [127, 127, -128, -128, 1, -1]  # halves away from zero
    assert saturated == 3  # 0.999 rounds to 128, 1.0 is 128, -1.01 is -129


def test_percentile_and_kl_ignore_rare_outliers():
    values = np.concatenate([np.random.default_rng(0).normal(0, 0.1, 100_000), [8.0]])
    assert choose_frac_bits(values, "minmax") == 4
    assert choose_frac_bits(values, "percentile") > 4
    assert choose_frac_bits(values, "kl") > 4


def _dense(weight, bias):
    return Dense(
        name="fc",
        node="fc",
        onnx_op="Gemm",
        out_tensor="y",
        weight=weight,
        bias=bias,
        flattened_from=None,
    )


def test_negative_out_shift_moves_the_output_format_and_is_reported():
    # Tiny weights and outputs: the output wants more fractional bits than fi + fw gives.
    op = _dense(np.full((2, 2), 0.9), np.zeros(2))
    x = np.full((4, 2), 0.9)
    q = quantise([op], x, {"y": np.full((4, 2), 1e-4)}, "minmax")
    assert q.ops[0].out_shift == 0
    assert any("out_shift" in n and "< 0" in n for n in q.notes)


def test_negative_bias_shift_moves_the_bias_format_and_is_reported():
    op = _dense(np.full((2, 2), 0.9), np.full(2, 1e-4))
    q = quantise([op], np.full((4, 2), 0.9), {"y": np.full((4, 2), 1.0)}, "minmax")
    assert q.ops[0].bias_shift == 0
    assert any("bias_shift" in n for n in q.notes)


def test_conv_weights_become_ohwi_and_depthwise_hwc():
    w = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2)  # O, I, kh, kw
    ohwi = layout.conv_weights(w).reshape(2, 2, 2, 3)
    assert ohwi[1, 0, 1, 2] == w[1, 2, 0, 1]
    dw = np.arange(3 * 2 * 2).reshape(3, 1, 2, 2)
    assert layout.depthwise_weights(dw).reshape(2, 2, 3)[1, 0, 2] == dw[2, 0, 1, 0]


def test_dense_columns_move_from_chw_to_hwc():
    rng = np.random.default_rng(1)
    c, h, w = 3, 2, 4
    weight = rng.normal(size=(5, c * h * w))
    image = rng.normal(size=(c, h, w))
    hwc = layout.dense_columns_hwc(weight, (c, h, w))
    np.testing.assert_allclose(
        hwc @ image.transpose(1, 2, 0).reshape(-1), weight @ image.reshape(-1)
    )


def test_opt_layout_is_the_interleaved_one():
    w = np.arange(6 * 5, dtype=np.int8).reshape(6, 5)
    flat = layout.dense_weights(w, interleaved=True)
    assert not np.array_equal(flat, w.reshape(-1))
    np.testing.assert_array_equal(deinterleave_q7_opt_weights(flat, 5, 6), w.reshape(-1))
    np.testing.assert_array_equal(layout.dense_weights(w, interleaved=False), w.reshape(-1))


def test_layer_metrics_and_output_metrics():
    f = np.array([0.5, -0.25, 1.0])
    m = layer_metrics(f, np.array([64, -32, 127], np.int8), 7)
    assert m.cosine > 0.999 and m.saturated_share == pytest.approx(1 / 3)
    assert m.max_abs_error == pytest.approx(1 / 128)
    exact = layer_metrics(f, np.array([2, -1, 4], np.int8), 2)
    assert exact.snr_db == float("inf") and exact.rmse == 0
    assert top1(np.array([[1, 3, 3], [2, 0, 1]])).tolist() == [1, 0]  # ties to the lowest
    om = output_metrics(
        np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 1.0]]), np.array([1, 1])
    )
    assert om["ACC"] == 1.0 and om["COS"] == pytest.approx(0.5)
    assert set(om) == {"ACC", "RMSE", "MAE", "L2r", "COS"}


def test_quantisation_table_round_trips_and_the_hash_is_unchanged(tmp_path):
    net = build_example("lenet5")
    onnx_file = tmp_path / "float" / "m.onnx"
    quant = Quantisation(7, "NCHW", (1, 28, 28), "kl", onnx_file.resolve(), "ab" * 32, "probs")
    layers = tuple(
        replace(layer, out_frac_bits=i, float_tensor=f"t{i}") for i, layer in enumerate(net.layers)
    )
    imported = replace(net, layers=layers, quantisation=quant)
    toml, _ = save_model(imported, tmp_path / "out" / "m.toml")
    text = toml.read_text()
    assert 'float_model = "../float/m.onnx"' in text
    back = load_model_file(toml)
    assert back.quantisation == quant
    assert [l.out_frac_bits for l in back.layers] == list(range(len(layers)))
    assert back.layers[2].float_tensor == "t2"
    assert model_hash(back) == model_hash(net)


def test_bad_quantisation_table_is_one_error(tmp_path):
    net = build_example("lenet5")
    toml, _ = save_model(net, tmp_path / "m.toml")
    toml.write_text(
        toml.read_text().replace(
            "[[layers]]",
            '[quantisation]\ninput_frac_bits = 7\ninput_layout = "CHW"\n\n[[layers]]',
            1,
        )
    )
    with pytest.raises(ConfigError, match="input_layout = 'CHW' is not supported"):
        load_model_file(toml)
