"""Fully-connected layers and the interleaved weight layout of the _opt variant.

The _opt kernel computes exactly what the row-major one does; its weights are
de-interleaved once at planning time, so both run as one exact matrix product
(a batch of inputs is a batch of rows, requantised through plan_dot).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from hil.errors import ConfigError
from hil.reference._core import bias_term, dot_dtype, exact_matmul, plan_dot, requantise
from hil.reference._kernel import Plan, batched, call

# Order of one 4x4 group in the interleaved layout: (row offset, column offset).
_GROUP = (
    (0, 0),
    (1, 0),
    (0, 2),
    (1, 2),
    (2, 0),
    (3, 0),
    (2, 2),
    (3, 2),
    (0, 1),
    (1, 1),
    (0, 3),
    (1, 3),
    (2, 1),
    (3, 1),
    (2, 3),
    (3, 3),
)


@lru_cache(maxsize=64)
def _opt_order(dim_vec: int, num_of_rows: int) -> np.ndarray:
    """Row-major index of each element of the interleaved layout, in order."""
    order: list[int] = []
    full_cols = dim_vec - dim_vec % 4
    for r0 in range(0, num_of_rows - num_of_rows % 4, 4):
        for c in range(0, full_cols, 4):
            order.extend((r0 + dr) * dim_vec + c + dc for dr, dc in _GROUP)
        for c in range(full_cols, dim_vec):
            order.extend((r0 + dr) * dim_vec + c for dr in range(4))
    order.extend(range((num_of_rows - num_of_rows % 4) * dim_vec, num_of_rows * dim_vec))
    idx = np.asarray(order, dtype=np.intp)
    idx.setflags(write=False)
    return idx


def _check_layout(weights: np.ndarray, dim_vec: int, num_of_rows: int) -> np.ndarray:
    if dim_vec < 1 or num_of_rows < 1:
        raise ConfigError(
            f"dim_vec = {dim_vec} and num_of_rows = {num_of_rows} must be >= 1",
            hint="pass the fully-connected layer's sizes",
        )
    w = np.ascontiguousarray(weights).reshape(-1)
    if w.size != dim_vec * num_of_rows:
        raise ConfigError(
            f"weights have {w.size} elements, dim_vec*num_of_rows = {dim_vec * num_of_rows}",
            hint="check dim_vec and num_of_rows",
        )
    return w


def interleave_q7_opt_weights(rowmajor: np.ndarray, dim_vec: int, num_of_rows: int) -> np.ndarray:
    """Row-major [num_of_rows][dim_vec] weights -> arm_fully_connected_q7_opt layout."""
    w = _check_layout(rowmajor, dim_vec, num_of_rows)
    return w[_opt_order(dim_vec, num_of_rows)]


def deinterleave_q7_opt_weights(
    interleaved: np.ndarray, dim_vec: int, num_of_rows: int
) -> np.ndarray:
    """Exact inverse of interleave_q7_opt_weights."""
    w = _check_layout(interleaved, dim_vec, num_of_rows)
    out = np.empty_like(w)
    out[_opt_order(dim_vec, num_of_rows)] = w
    return out


def _plan(params: dict[str, int], rowmajor: np.ndarray, bias: np.ndarray) -> Plan:
    dim_vec, rows = params["dim_vec"], params["num_of_rows"]
    dtype = dot_dtype(dim_vec, int(np.abs(rowmajor.astype(np.int16)).max(initial=0)))
    w_mat: np.ndarray = rowmajor.reshape(rows, dim_vec).T.astype(dtype)
    offset = bias_term(bias, params["bias_shift"], params["out_shift"])
    out_shift = params["out_shift"]
    fast_dot = plan_dot(rowmajor.reshape(rows, dim_vec), bias, params["bias_shift"], out_shift)

    def run(x: np.ndarray) -> np.ndarray:
        acc = exact_matmul(x, w_mat, dtype) + offset
        return requantise(acc, out_shift)

    return batched(run, fast_dot)


def plan_fully_connected(
    params: dict[str, int], weights: np.ndarray, bias: np.ndarray, variant: str = "dsp"
) -> Plan:
    return _plan(params, weights, bias)


def plan_fully_connected_opt(
    params: dict[str, int], weights: np.ndarray, bias: np.ndarray, variant: str = "dsp"
) -> Plan:
    rowmajor = deinterleave_q7_opt_weights(weights, params["dim_vec"], params["num_of_rows"])
    return _plan(params, rowmajor, bias)


def arm_fully_connected_q7(*, pV, pM, dim_vec, num_of_rows, bias_shift, out_shift, bias):
    return call("arm_fully_connected_q7", plan_fully_connected, locals())


def arm_fully_connected_q7_opt(*, pV, pM, dim_vec, num_of_rows, bias_shift, out_shift, bias):
    """pM in the interleaved layout (see interleave_q7_opt_weights)."""
    return call("arm_fully_connected_q7_opt", plan_fully_connected_opt, locals())


PLANNERS = {
    "arm_fully_connected_q7": plan_fully_connected,
    "arm_fully_connected_q7_opt": plan_fully_connected_opt,
}
