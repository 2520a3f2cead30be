"""The one path every reference call takes: validate, plan, run.

A *planner* turns validated scalar parameters plus weights and bias into a
callable ``plan(x) -> y`` on int8 arrays: one flat input (in,) gives one flat
output (out,), and a batch (N, in) gives (N, out), row i being exactly what
row i alone gives. Planning does the per-layer work once (weight matrices,
window geometry), so the network runner can keep plans and pay only for the
arithmetic on each inference or batch.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from hil.errors import ConfigError
from hil.reference._core import flat_int8
from hil.reference.spec import VARIANTS
from hil.reference.validation import normalize_params, spec_of, validate_arrays, validate_params

Plan = Callable[[np.ndarray], np.ndarray]
Planner = Callable[[dict[str, int], "np.ndarray | None", "np.ndarray | None", str], Plan]


def batched(
    run: Callable[[np.ndarray], np.ndarray],
    run_many: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Plan:
    """A plan from ``run``, which maps batches (N, in) -> (N, out); a flat input is N = 1.

    ``run_many``, when given, serves the batches (2-D inputs) instead: a
    faster route that must give exactly what ``run`` gives, row by row
    (tests/unit/test_reference_batch.py holds it to that). Single inputs keep
    taking ``run``, the path the golden vectors pin down.
    """
    many = run_many or run

    def plan(x: np.ndarray) -> np.ndarray:
        if x.ndim == 1:
            return run(x.reshape(1, -1)).reshape(-1)
        return many(x)

    return plan


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ConfigError(
            f"unknown reference variant '{variant}'", hint="use one of: " + ", ".join(VARIANTS)
        )
    return variant


def geometry(p: Mapping[str, int]) -> dict[str, int]:
    """Non-square names (…_x, …_y) for square and non-square functions alike."""
    if "dim_im_in" not in p:
        return dict(p)
    g = dict(p)
    for name in ("dim_im_in", "dim_kernel", "padding", "stride", "dim_im_out"):
        if name in p:
            g[f"{name}_x"] = g[f"{name}_y"] = p[name]
    return g


def plan_call(
    function: str,
    planner: Planner,
    params: Mapping[str, Any],
    arrays: Mapping[str, Any],
    variant: str,
) -> Plan:
    """Validated plan for one function call (scalars and arrays checked)."""
    check_variant(variant)
    spec = spec_of(function)
    p = normalize_params(function, params)
    validate_params(function, p)
    validate_arrays(function, p, arrays)
    weights = flat_int8(arrays[spec.weights]) if spec.weights else None
    bias = flat_int8(arrays[spec.bias]) if spec.bias else None
    return planner(p, weights, bias, variant)


def call(
    function: str, planner: Planner, kwargs: Mapping[str, Any], variant: str = "dsp"
) -> np.ndarray:
    """Run one function on C-named keyword arguments; returns a new flat int8 array."""
    spec = spec_of(function)
    pointers = {n for n in (spec.input, spec.weights, spec.bias) if n}
    arrays = {n: kwargs.get(n) for n in pointers}
    scalars = {k: v for k, v in kwargs.items() if k not in pointers}
    plan = plan_call(function, planner, scalars, arrays, variant)  # checks the input too
    return plan(flat_int8(kwargs[spec.input]))
