"""Choosing a power-of-two format (Qm.n) for a tensor from its values.

A format with ``n`` fractional bits represents q7 / 2**n, so its range is
[-128, 127] / 2**n. For a range r, ``frac_bits_for_range`` gives
n = 7 - ceil(log2 r): the finest format whose range reaches r (r itself, if
a power of two, saturates to 127 / 2**n, as in Arm's own quantisation
scripts). The methods differ only in which r they take:

* ``minmax``: r = max |x| (nothing saturates);
* ``percentile``: r = the 99.99th percentile of |x| (rare outliers saturate);
* ``kl``: among the minmax format and up to four finer ones, the one whose
  quantised histogram is closest to the float one in KL divergence.
"""

from __future__ import annotations

import math

import numpy as np

METHODS = ("minmax", "percentile", "kl")
PERCENTILE = 99.99
KL_BINS = 2048
KL_EXTRA_BITS = 4
KL_MIN_VALUES = 20_000  # fewer values fill a 2048-bin histogram too sparsely to trust


def frac_bits_for_range(r: float) -> int:
    """The fractional bits n of the finest format with 128 / 2**n >= r."""
    if not math.isfinite(r) or r <= 0:
        return 7
    return 7 - math.ceil(math.log2(r))


def _kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    p = p / max(p.sum(), 1e-300)
    q = q / max(q.sum(), 1e-300)
    mask = p > 0
    q = np.where(q > 0, q, 1e-12)
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def _kl_cost(magnitude: np.ndarray, frac: int) -> float:
    """KL(P || Q): P the histogram of |x| clipped to the format's range (what saturates
    lands in the top bin), Q the same after merging it to the format's 128 levels."""
    top = 128.0 / 2.0**frac
    p, _ = np.histogram(np.minimum(magnitude, top * (1 - 1e-9)), bins=KL_BINS, range=(0.0, top))
    p = p.astype(np.float64)
    q = np.zeros_like(p)
    for chunk in np.array_split(np.arange(KL_BINS), 128):
        nonzero = chunk[p[chunk] > 0]
        if nonzero.size:
            q[nonzero] = p[chunk].sum() / nonzero.size
    return _kl_divergence(p, q)


def choose_frac_bits(values: np.ndarray, method: str) -> int:
    """The fractional bits for a tensor with these (calibration) values."""
    magnitude = np.abs(np.asarray(values, dtype=np.float64)).reshape(-1)
    top = float(magnitude.max(initial=0.0))
    base = frac_bits_for_range(top)
    if method == "minmax" or top == 0.0:
        return base
    if method == "percentile" or (method == "kl" and magnitude.size < KL_MIN_VALUES):
        return frac_bits_for_range(float(np.percentile(magnitude, PERCENTILE)))
    if method != "kl":
        raise ValueError(f"unknown calibration method {method!r}")
    costs = {f: _kl_cost(magnitude, f) for f in range(base, base + KL_EXTRA_BITS + 1)}
    return min(costs, key=lambda f: (costs[f], f))
