"""Quantisation diagnostics: how far q7 results are from the float model's.

Pure numpy. ``layer_metrics`` compares one layer's dequantised q7 output with
the float tensor it stands for; ``output_metrics`` gives final-output figures
in the style of ST's validate (ACC, RMSE, MAE, L2r, COS); ``top1`` is the
argmax of each output row, ties going to the lowest index (numpy's argmax).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

_TINY = 1e-12


@dataclass(frozen=True)
class LayerMetrics:
    cosine: float
    rmse: float
    snr_db: float
    max_abs_error: float
    saturated_share: float


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.size != b.size:
        raise ValueError(f"cannot compare {a.size} values with {b.size}")
    return a, b


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = _pair(a, b)
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norms < _TINY:  # both (near) zero: identical; one zero: nothing in common
        return 1.0 if np.allclose(a, b) else 0.0
    return float(np.dot(a, b) / norms)


def snr_db(reference: np.ndarray, got: np.ndarray) -> float:
    """10 log10(signal power / error power); inf when exact."""
    ref, got = _pair(reference, got)
    noise = float(np.sum((ref - got) ** 2))
    signal = float(np.sum(ref**2))
    if noise < _TINY:
        return float("inf")
    return 10.0 * float(np.log10(max(signal, _TINY) / noise))


def layer_metrics(float_out: np.ndarray, q7_out: np.ndarray, frac_bits: int) -> LayerMetrics:
    """Dequantise ``q7_out`` (value = q7 / 2**frac_bits) and compare it with ``float_out``."""
    q = np.asarray(q7_out).reshape(-1)
    deq = q.astype(np.float64) / 2.0**frac_bits
    ref, deq = _pair(float_out, deq)
    err = ref - deq
    return LayerMetrics(
        cosine=cosine(ref, deq),
        rmse=float(np.sqrt(np.mean(err**2))) if err.size else 0.0,
        snr_db=snr_db(ref, deq),
        max_abs_error=float(np.max(np.abs(err))) if err.size else 0.0,
        saturated_share=float(np.mean((q == -128) | (q == 127))) if q.size else 0.0,
    )


def top1(outputs: np.ndarray) -> np.ndarray:
    """The class of each row: its argmax, ties to the lowest index."""
    out = np.asarray(outputs)
    return np.argmax(out.reshape(out.shape[0], -1), axis=1)


def output_metrics(
    ref_or_float: np.ndarray, got: np.ndarray, labels: np.ndarray | None = None
) -> dict[str, float]:
    """ACC (top-1 of ``got`` against ``labels``, when given), RMSE, MAE, L2r, COS."""
    ref = np.asarray(ref_or_float, dtype=np.float64)
    out = np.asarray(got, dtype=np.float64)
    a, b = _pair(ref, out)
    err = a - b
    metrics: dict[str, float] = {}
    if labels is not None:
        metrics["ACC"] = float(np.mean(top1(out.reshape(ref.shape)) == np.asarray(labels)))
    metrics["RMSE"] = float(np.sqrt(np.mean(err**2)))
    metrics["MAE"] = float(np.mean(np.abs(err)))
    metrics["L2r"] = float(np.linalg.norm(err) / max(float(np.linalg.norm(a)), _TINY))
    metrics["COS"] = cosine(a, b)
    return metrics


SNR_CAP_DB = 200.0  # an exact layer (infinite SNR) counts as this when comparing drops


def snr_drops(input_snr: float, snrs: Sequence[float]) -> list[float]:
    """Each layer's SNR below the one before it (the quantised input's for the first)."""
    capped = [min(s, SNR_CAP_DB) for s in (input_snr, *snrs)]
    return [before - after for before, after in zip(capped, capped[1:])]


def blamed_layer(drops: Sequence[float], functions: Sequence[str]) -> int | None:
    """The layer where SNR drops most: where accuracy was lost (the first, on a tie).
    arm_softmax_q7 is never blamed: its gap is the kernel's base-2 arithmetic, which
    the import report states, not lost precision."""
    candidates = [
        (drop, i)
        for i, (drop, function) in enumerate(zip(drops, functions))
        if function != "arm_softmax_q7" and not math.isnan(drop)
    ]
    return max(candidates, key=lambda c: c[0])[1] if candidates else None
