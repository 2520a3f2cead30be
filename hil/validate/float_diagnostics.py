"""The float model beside the q7 reference for `hil run`: its final outputs over the data
set and, per layer, how far the dequantised q7 output is from the float tensor it
stands for (cosine, RMSE, SNR, max abs error, saturated share).

The layer where SNR drops most against the one before it (the quantised input for
the first) is marked: that is where accuracy was lost.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict
from typing import Any, Callable

import numpy as np

from hil.errors import ConfigError
from hil.model.diagnostics import LayerMetrics, blamed_layer, layer_metrics, snr_drops
from hil.model.layer import Network
from hil.reference.network import run_network_batch

_FLOAT_CHUNK = 256  # vectors per onnxruntime call
_DIAGNOSED_ELEMENTS = 1 << 24  # q7 layer outputs held at once for the diagnostics


def hwc_rows(t: np.ndarray) -> np.ndarray:
    """A float tensor (N, C, H, W) or (N, C, L) in the q7 layer's HWC order, one row per vector."""
    t = np.asarray(t)
    if t.ndim == 4:
        t = t.transpose(0, 2, 3, 1)
    elif t.ndim == 3:
        t = t.transpose(0, 2, 1)
    return t.reshape(len(t), -1)


def diagnosed_count(network: Network, n: int) -> int:
    """How many vectors the per-layer diagnostics cover: all, unless the layers' outputs
    would not fit the memory budget."""
    per_vector = sum(layer.output_size for layer in network.layers)
    return max(1, min(n, _DIAGNOSED_ELEMENTS // max(per_vector, 1)))


def _final_name(network: Network, model: Any) -> str:
    q = network.quantisation
    return q.float_output if q is not None and q.float_output else model.output_name


def _sha_note(network: Network) -> str | None:
    q = network.quantisation
    assert q is not None and q.float_model is not None
    if not q.float_model_sha256 or not q.float_model.is_file():
        return None
    digest = hashlib.sha256(q.float_model.read_bytes()).hexdigest()
    if digest != q.float_model_sha256:
        return f"{q.float_model} has changed since the import (sha256 {digest[:12]}...)"
    return None


def float_outputs_and_diagnostics(
    network: Network, x: np.ndarray, x_float: np.ndarray, variant: str
) -> tuple[np.ndarray | None, dict[str, Any] | None, str | None]:
    """(float final outputs (N, classes), the diagnostics section, a note). Without
    onnxruntime, or with a float model that cannot run, both are None and the note says why."""
    from hil.model.float_model import FloatModel

    q = network.quantisation
    assert q is not None and q.float_model is not None
    try:
        model = FloatModel(q.float_model)
        final_name = _final_name(network, model)
        final = np.concatenate(
            [
                hwc_rows(model.run(x_float[s : s + _FLOAT_CHUNK])[final_name])
                for s in range(0, len(x_float), _FLOAT_CHUNK)
            ]
        )
        k = diagnosed_count(network, len(x))
        tensors = [layer.float_tensor for layer in network.layers if layer.float_tensor]
        floats: dict[str, list[np.ndarray]] = {t: [] for t in tensors}
        for s in range(0, k, _FLOAT_CHUNK):
            got = model.run(x_float[s : min(k, s + _FLOAT_CHUNK)], tensors)
            for t in tensors:
                floats[t].append(hwc_rows(got[t]))
    except ConfigError as exc:
        return (
            None,
            None,
            f"no float figure: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""),
        )
    q7 = run_network_batch(network, x[:k], variant)
    stacked = {t: np.concatenate(v) for t, v in floats.items()}
    section = layer_diagnostics(network, x[:k], x_float[:k], q7, stacked)
    return final, section, _sha_note(network)


def layer_diagnostics(
    network: Network,
    x: np.ndarray,
    x_float: np.ndarray,
    q7_outputs: list[np.ndarray],
    float_tensors: dict[str, np.ndarray],
) -> dict[str, Any]:
    """Per-layer metrics of ``q7_outputs`` (one (K, size) array per layer) against the
    float tensors (K, size, HWC order), led by the quantised input; the layer whose SNR
    drops most is ``worst_layer``."""
    q = network.quantisation
    assert q is not None
    inp = layer_metrics(hwc_rows(x_float), x.reshape(len(x), -1), q.input_frac_bits)
    heads = []
    for i, layer in enumerate(network.layers):
        row = {"index": i, "name": layer.name, "function": layer.function,
               "float_tensor": layer.float_tensor, "out_frac_bits": layer.out_frac_bits}  # fmt: skip
        t = None if layer.out_frac_bits is None else float_tensors.get(layer.float_tensor or "")
        heads.append((row, t))
    rows, worst = compared_rows(
        heads,
        q7_outputs,
        # a layer without a Q format has no tensor to compare (None above), so never gets here
        lambda i, t, out: layer_metrics(t, out, int(network.layers[i].out_frac_bits or 0)),
        "no matching float tensor",
        inp.snr_db,
    )
    return {
        "vectors": len(x),
        "input": {"out_frac_bits": q.input_frac_bits, **_finite(asdict(inp))},
        "layers": rows,
        "worst_layer": worst,
        "note": "SNR drop: the layer's SNR below the previous layer's (the input's for the "
        "first); the largest drop is marked",
    }


def compared_rows(
    heads: list[tuple[dict[str, Any], np.ndarray | None]],
    outputs: list[np.ndarray],
    metrics: Callable[[int, np.ndarray, np.ndarray], LayerMetrics],
    missing: str,
    input_snr: float,
) -> tuple[list[dict[str, Any]], int | None]:
    """Each layer's row (its head, given with the float tensor it is compared with, or
    None) filled with ``metrics(index, float tensor, output)``, or marked skipped with
    why; then the SNR drops marked. The rows and the worst layer's index."""
    rows: list[dict[str, Any]] = []
    measured: list[tuple[dict[str, Any], float]] = []  # (row, SNR) of the layers compared
    for i, ((row, t), out) in enumerate(zip(heads, outputs, strict=True)):
        if t is None or t.shape != out.shape:
            row["skipped"] = (
                missing
                if t is None
                else f"float tensor has {t.shape[1]} values per vector, the layer {out.shape[1]}"
            )
        else:
            m = metrics(i, t, out)
            row.update(_finite(asdict(m)))
            measured.append((row, m.snr_db))
        rows.append(row)
    return rows, mark_drops(input_snr, measured, rows)


def mark_drops(
    input_snr: float, measured: list[tuple[dict[str, Any], float]], rows: list[dict[str, Any]]
) -> int | None:
    """Give each measured row (row, its SNR) its ``snr_drop_db`` and every row its
    ``worst`` flag; the index of the layer where SNR drops most (or None)."""
    drops = snr_drops(input_snr, [snr for _row, snr in measured])
    for (row, _snr), drop in zip(measured, drops):
        row["snr_drop_db"] = drop if math.isfinite(drop) else None
    blamed = blamed_layer(drops, [row["function"] for row, _snr in measured])
    worst = None if blamed is None else measured[blamed][0]["index"]
    for row in rows:
        row["worst"] = row["index"] == worst
    return worst


def _finite(metrics: dict[str, float]) -> dict[str, float | None]:
    """JSON has no infinity: an exact match (SNR inf) is written as null."""
    return {k: (None if math.isinf(v) else v) for k, v in metrics.items()}
