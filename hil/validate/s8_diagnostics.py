"""Per-layer diagnostics of an s8 network against its float model, in real units.

Each layer's int8 reference output is dequantised through its tensor's scale and
zero point, ``real = scale * (q - zero_point)``, and compared with the float
model's tensor of the same name: a float TFLite model run through TFLite
Micro's interpreter, which keeps every tensor, or an ONNX model through
onnxruntime (its NCHW tensors taken to NHWC). Layers whose tensor the float
model lacks are listed as skipped. The rows have the shape of the q7
diagnostics (hil.validate.float_diagnostics), with the scale where q7 has its
Q format, so the terminal and HTML reports show both.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from hil.model.diagnostics import LayerMetrics, cosine, snr_db
from hil.model.s8 import Quant, S8Network
from hil.model.tflite import micro
from hil.model.tflite.reader import read_model
from hil.validate.float_diagnostics import _finite, compared_rows, hwc_rows

DIAGNOSED_INPUTS = 200  # enough for stable statistics; TFLM runs one input at a time


def real_metrics(float_out: np.ndarray, q: np.ndarray, quant: Quant) -> LayerMetrics:
    """``q`` dequantised through ``quant`` against ``float_out``; saturated: at -128 or
    127 without being the zero point (a ReLU's zeros are not saturation)."""
    q = np.asarray(q).reshape(-1)
    ref = np.asarray(float_out, dtype=np.float64).reshape(-1)
    deq = (q.astype(np.float64) - quant.zero_point) * quant.scale
    err = ref - deq
    clipped = ((q == -128) | (q == 127)) & (q != quant.zero_point)
    return LayerMetrics(
        cosine=cosine(ref, deq),
        rmse=float(np.sqrt(np.mean(err**2))) if err.size else 0.0,
        snr_db=snr_db(ref, deq),
        max_abs_error=float(np.max(np.abs(err))) if err.size else 0.0,
        saturated_share=float(np.mean(clipped)) if q.size else 0.0,
    )


def float_tensors(path: Path, names: list[str], x_float: np.ndarray) -> dict[str, np.ndarray]:
    """The float TFLite model's tensors named ``names`` (those it has), (K, size) each."""
    graph = read_model(path)
    index = {t.name: i for i, t in enumerate(graph.tensors)}
    wanted = [n for n in names if n in index]
    interp = micro.interpreter(graph)
    rows: dict[str, list[np.ndarray]] = {n: [] for n in wanted}
    for row in x_float:
        _final, *got = micro.run(
            interp, row[None].astype(np.float32), tuple(index[n] for n in wanted)
        )
        for n, t in zip(wanted, got, strict=True):
            rows[n].append(np.asarray(t, np.float64).reshape(-1))
    return {n: np.stack(v) for n, v in rows.items() if v}


def onnx_float_tensors(path: Path, names: list[str], x_float: np.ndarray) -> dict[str, np.ndarray]:
    """The ONNX float model's tensors named ``names`` (those its nodes produce), (K, size)
    each in NHWC order, as the s8 layers lay out their outputs."""
    from hil.model.float_model import FloatModel
    from hil.model.tflite.float_model import onnx_layout

    model = FloatModel(path)
    produced = model.tensor_names()
    wanted = [n for n in dict.fromkeys(names) if n in produced]
    got = model.run(onnx_layout(np.asarray(x_float, np.float32), model.input_dims), wanted)
    return {n: hwc_rows(got[n]).astype(np.float64) for n in wanted}


def s8_diagnostics(
    network: S8Network,
    x: np.ndarray,
    x_float: np.ndarray,
    outputs: list[np.ndarray],
    floats: dict[str, np.ndarray],
) -> dict[str, Any]:
    """The diagnostics section: the quantised input, then every layer, the layer
    whose SNR drops most marked ``worst``."""
    inp = real_metrics(x_float.reshape(len(x_float), -1), x, network.input_quant)
    heads = []
    for i, layer in enumerate(network.layers):
        row = {"index": i, "name": layer.name, "function": layer.function,
               "float_tensor": layer.tensor, "out_frac_bits": None,
               "scale": layer.output_quant.scale,
               "zero_point": layer.output_quant.zero_point}  # fmt: skip
        heads.append((row, floats.get(layer.tensor)))
    rows, worst = compared_rows(
        heads,
        outputs,
        lambda i, t, out: real_metrics(t, out, network.layers[i].output_quant),
        "no float tensor of this name",
        inp.snr_db,
    )
    return {
        "vectors": len(x),
        "family": "s8",
        "input": {
            "out_frac_bits": None,
            "scale": network.input_quant.scale,
            "zero_point": network.input_quant.zero_point,
            **_finite(asdict(inp)),
        },
        "layers": rows,
        "worst_layer": worst,
        "note": "real = scale * (q - zero point) against the float model's tensor of the same "
        "name; SNR drop: the layer's SNR below the previous layer's (the input's for the "
        "first); the largest drop is marked",
    }


def diagnose(
    network: S8Network, x: np.ndarray, x_float: np.ndarray, float_model: Path, variant: str
) -> dict[str, Any]:
    """The section for the first DIAGNOSED_INPUTS inputs, against the float model's
    tensors of the layers' names: a float TFLite model's, or an ONNX model's (its NCHW
    tensors taken to NHWC)."""
    from hil.reference.s8 import run_network_batch

    k = min(len(x), DIAGNOSED_INPUTS)
    xs = np.asarray(x[:k]).reshape(k, *network.input_shape[1:])
    outputs = run_network_batch(network, xs, variant)  # type: ignore[arg-type]
    names = [layer.tensor for layer in network.layers]
    tensors = onnx_float_tensors if Path(float_model).suffix == ".onnx" else float_tensors
    floats = tensors(float_model, names, np.asarray(x_float[:k], np.float32).reshape(xs.shape))
    return s8_diagnostics(network, xs.reshape(k, -1), x_float[:k], outputs, floats)
