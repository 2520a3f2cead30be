"""Parameter checks of the CMSIS-NN legacy q7 functions, on the host.

The C functions either return ARM_MATH_SIZE_MISMATCH, or silently read and
write out of bounds, when their arguments break their rules; the reference
refuses them instead, so a wrong argument is never a silent wrong answer.
Every error names the parameter and the rule. The rules themselves, and why
each exists, are data in hil.kernels.catalogue; this module interprets them,
as firmware/src/kcheck.c does on the device.
"""

from __future__ import annotations

import operator
from typing import Callable, Mapping, SupportsIndex, cast

import numpy as np

from hil.errors import KernelParameterError
from hil.kernels.catalogue import (
    ACTIVATION_TYPES,
    AVEPOOL_KERNEL_MAX,
    BIAS_SHIFT_MAX,
    KERNEL_SPECS,
    NARROW_RANGES,
    OUT_SHIFT_MAX,
    SOFTMAX_DIM_MAX,
    UINT16_MAX,
    KernelSpec,
)
from hil.kernels.rules import Op, Rule

__all__ = [
    "ACTIVATION_TYPES",
    "AVEPOOL_KERNEL_MAX",
    "BIAS_SHIFT_MAX",
    "NARROW_RANGES",
    "OUT_SHIFT_MAX",
    "SOFTMAX_DIM_MAX",
    "UINT16_MAX",
    "formula_out",
    "normalize_params",
    "spec_of",
    "validate_arrays",
    "validate_params",
]


def _fail(function: str, param: str, rule: str, hint: str) -> KernelParameterError:
    return KernelParameterError(f"{function}: {param} {rule}", hint=hint)


def spec_of(function: str) -> KernelSpec:
    try:
        return KERNEL_SPECS[function]
    except KeyError:
        raise KernelParameterError(
            f"unknown CMSIS-NN function '{function}'", hint="use one of: " + ", ".join(KERNEL_SPECS)
        ) from None


def _as_int(function: str, name: str, value: object) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise _fail(function, name, f"= {value!r} is not an integer", "pass whole numbers")
    try:
        return operator.index(cast(SupportsIndex, value))  # int and numpy ints, not floats
    except TypeError:
        raise _fail(
            function, name, f"= {value!r} is not an integer", "pass whole numbers"
        ) from None


def formula_out(dim_in: int, kernel: int, padding: int, stride: int) -> int:
    """Output size the network designer's formula gives (floor division)."""
    return (dim_in + 2 * padding - kernel) // stride + 1


def rule_broken(rule: Rule, v: list[int]) -> bool:
    """Whether values ``v`` (in the order of ``rule.params``) break the rule."""
    match rule.op:
        case Op.RANGE:
            return not rule.lo <= v[0] <= rule.hi
        case Op.LESS:
            return v[0] >= v[1]
        case Op.NOT_ABOVE:
            return v[0] > v[1]
        case Op.SAME:
            return v[0] != v[1]
        case Op.MULTIPLE:
            return v[0] % rule.lo != 0
        case Op.WINDOW_FITS:
            return v[0] > formula_out(v[1], v[2], v[3], v[4])
        case Op.LAST_WINDOW:
            return (v[0] - 1) * v[3] - v[2] >= v[1]
    raise AssertionError(f"no interpreter for {rule.op!r}")


def _refusal(function: str, rule: Rule, v: list[int]) -> KernelParameterError:
    fields: dict[str, object] = {"lo": rule.lo, "hi": rule.hi}
    for i, (name, value) in enumerate(zip(rule.params, v)):
        fields[f"p{i}"], fields[f"v{i}"] = name, value
    if rule.op is Op.WINDOW_FITS:
        fields["limit"] = formula_out(v[1], v[2], v[3], v[4])
    return _fail(
        function, rule.params[0], rule.message.format(**fields), rule.hint.format(**fields)
    )


def normalize_params(function: str, params: Mapping[str, object]) -> dict[str, int]:
    """Exactly the function's scalar parameters, as Python ints in uint16 range."""
    spec = spec_of(function)
    missing = [n for n in spec.scalars if n not in params]
    if missing:
        raise _fail(
            function, ", ".join(missing), "missing", f"give all of: {', '.join(spec.scalars)}"
        )
    unknown = sorted(set(params) - set(spec.scalars))
    if unknown:
        raise _fail(
            function,
            ", ".join(unknown),
            "is not a scalar parameter of this function",
            f"its scalar parameters are: {', '.join(spec.scalars)}",
        )
    out = {n: _as_int(function, n, params[n]) for n in spec.scalars}
    for name, value in out.items():
        if name != spec.enum_param and not 0 <= value <= UINT16_MAX:
            if name in NARROW_RANGES:  # the same refusal, naming the range that applies
                lo, hi, why = NARROW_RANGES[name]
                raise _fail(
                    function,
                    name,
                    f"= {value} is outside {lo}..{hi} ({why})",
                    f"use a {name} in {lo}..{hi}",
                )
            raise _fail(
                function,
                name,
                f"= {value} is outside 0..{UINT16_MAX}",
                "the C parameter is a uint16_t",
            )
    return out


def validate_params(function: str, params: Mapping[str, int]) -> None:
    """Check the scalar parameters of one call; raise KernelParameterError."""
    p = normalize_params(function, params)
    for rule in KERNEL_SPECS[function].all_rules:
        v = [p[name] for name in rule.params]
        if rule_broken(rule, v):
            raise _refusal(function, rule, v)


def validate_arrays(
    function: str, params: Mapping[str, int], arrays: Mapping[str, np.ndarray]
) -> None:
    """Check dtype and size of the pointer parameters (input, weights, bias).

    ``params`` must already pass validate_params. Weights and bias are
    required when the function takes them; the input is checked when given
    (a model has no input array yet). Arrays may have any shape; their
    element count must match what the C function reads.
    """
    spec = spec_of(function)
    p = normalize_params(function, params)
    wanted: list[tuple[str, Callable[[Mapping[str, int]], int] | None]] = (
        [(spec.input, spec.input_size)] if spec.input in arrays else []
    )
    if spec.weights is not None:
        wanted.append((spec.weights, spec.weights_size))
    if spec.bias is not None:
        wanted.append((spec.bias, spec.bias_size))
    for name, size_of in wanted:
        if arrays.get(name) is None:
            raise _fail(function, name, "is missing", f"pass {name} as a flat int8 array")
        arr = arrays[name]
        if not isinstance(arr, np.ndarray):
            raise _fail(
                function,
                name,
                f"is a {type(arr).__name__}, not a numpy array",
                "pass np.asarray(..., dtype=np.int8)",
            )
        if arr.dtype != np.int8:
            raise _fail(
                function,
                name,
                f"has dtype {arr.dtype}, must be int8",
                "q7_t data is int8; convert with .astype(np.int8) only if the values fit",
            )
        assert size_of is not None  # every array the spec names has its size rule
        want = size_of(p)
        if arr.size != want:
            raise _fail(
                function,
                name,
                f"has {arr.size} elements, the parameters need {want}",
                "check the shape parameters against the array",
            )
