"""Random and edge conformance cases of the CMSIS-NN q7 functions, drawn from the catalogue.

A case is one call: the scalar C parameters and the input, weights and bias
arrays, by C name (as in a golden-vector file, without the outputs). Shapes
are drawn by parameter name, then made valid by the function's own rules
(hil.kernels.catalogue, interpreted by hil.reference.validation): the first
broken rule is repaired on the parameter it refuses, until none is broken, so
this module never restates a rule. validate_params has the last word on every
case, and a case must fit the device's kernel arena or it is drawn again.

One deliberate limit beyond the rules: the shifts keep the 32-bit accumulator
from overflowing for any int8 data, as the golden set does (FORMAT.md). Past
that the plain-C kernels overflow a signed int, which C leaves undefined, so a
disagreement there would say nothing about the library.

Everything is deterministic for a given seed and arena size; a function's
cases do not depend on which other functions are drawn.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from hil.errors import ConfigError
from hil.kernels.catalogue import NONSQUARE, SQUARE
from hil.kernels.rules import Op, Rule
from hil.reference.spec import KERNEL_SPECS, KernelSpec
from hil.reference.validation import (
    NARROW_RANGES,
    formula_out,
    rule_broken,  # the interpreter's own test of one rule: a repair sees what it sees
    validate_params,
)

# Where shapes are drawn from, by C parameter name with any _x/_y suffix dropped:
# (lowest, highest, log-uniform). Near the golden set's domain: images up to 16x16,
# 32 channels, kernels up to 5; vectors up to 2048. Sizes are log-uniform: mostly
# small (odd sizes and SIMD tails, quick over a UART), now and then large. Output
# sizes are not drawn: the output-size formula gives them, as a network would.
SHAPE_DRAWS: dict[str, tuple[int, int, bool]] = {
    "dim_im_in": (1, 16, True),
    "ch_im_in": (1, 32, True),
    "ch_im_out": (1, 32, True),
    "dim_kernel": (1, 5, False),
    "padding": (0, 4, False),
    "stride": (1, 3, False),
    "num_of_rows": (1, 64, True),
    "dim_vec": (1, 2048, True),
    "size": (1, 2048, True),
}
DERIVED = "dim_im_out"
SHIFTS = ("bias_shift", "out_shift")

# Mirrors the device's arena layout (firmware/src/kernel.c): input, weights, bias
# and output regions, each followed by HIL_KERNEL_REGION_PAD spare bytes and aligned
# to 4, then the scratch the function needs.
REGION_PAD = 4
INT32_MAX = 2**31 - 1
PRODUCT_MAX = 128 * 128  # the largest |int8 x int8|

_ATTEMPTS = 2000  # draws per case before giving up on the arena
_SHRINK_EVERY = 100  # failed draws before the shape ranges halve
_REPAIRS = 32


@dataclass(frozen=True)
class Case:
    """One call of ``function``: scalars and input/weights/bias arrays by C name."""

    function: str
    case_id: str  # NNN_tag, as in the golden set: edge_* or rand
    params: Mapping[str, int]
    arrays: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def kwargs(self) -> dict[str, Any]:
        """The C-named arguments, as load_case returns them and runners take them."""
        return {**self.params, **self.arrays}


@dataclass(frozen=True)
class _Recipe:
    """What kind of case to draw."""

    tag: str
    fixed: Mapping[str, int] = field(default_factory=dict)  # set before the rules repair
    fill: int | None = None  # every array element this value
    every_value: bool = False  # the input is all 256 int8 values
    shifts: str = "random"  # random | zero | max_bias | max_out


def select_functions(only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[str]:
    """The catalogue's functions, or the ones named in ``only``, less ``skip``; sorted."""
    only, skip = list(only), set(skip)
    for name in [*only, *sorted(skip)]:
        if name not in KERNEL_SPECS:
            raise ConfigError(
                f"--function {name}: no such CMSIS-NN function"
                if name in only
                else f"--skip-function {name}: no such function",
                hint="known functions: " + ", ".join(sorted(KERNEL_SPECS)),
            )
    chosen = [f for f in sorted(set(only) if only else set(KERNEL_SPECS)) if f not in skip]
    if not chosen:
        raise ConfigError(
            "--skip-function leaves no function to draw cases for",
            hint="skip fewer functions, or name the ones to run with --function",
        )
    return chosen


def generate_cases(function: str, count: int, seed: int, arena_bytes: int) -> list[Case]:
    """The edge cases of ``function``, then ``count`` random ones, numbered in that order."""
    spec = KERNEL_SPECS[function]
    rng = np.random.default_rng([seed, spec.id])
    recipes = [*edge_recipes(spec), *(_Recipe("rand") for _ in range(count))]
    width = max(3, len(str(len(recipes) - 1)))
    return [
        _draw(spec, recipe, f"{i:0{width}d}_{recipe.tag}", rng, arena_bytes)
        for i, recipe in enumerate(recipes)
    ]


def generate_set(
    functions: Iterable[str], count: int, seed: int, arena_bytes: int
) -> dict[str, list[Case]]:
    return {f: generate_cases(f, count, seed, arena_bytes) for f in functions}


def edge_recipes(spec: KernelSpec) -> list[_Recipe]:
    """Saturating data, the smallest shapes the rules allow, the extreme shifts, and
    for vector functions every int8 value (per setting of their narrow parameters)."""
    scalars = set(spec.scalars)
    smallest = {n: SHAPE_DRAWS[_base(n)][0] for n in scalars if _base(n) in SHAPE_DRAWS}
    recipes = [
        _Recipe("edge_ones", fixed=smallest),
        _Recipe("edge_all_min", fill=-128),
        _Recipe("edge_all_max", fill=127),
    ]
    if "ch_im_in" in scalars:
        recipes += [
            _Recipe("edge_dim1", fixed={n: 1 for n in scalars if _base(n) == "dim_im_in"}),
            _Recipe("edge_ch1", fixed={n: 1 for n in scalars if n.startswith("ch_im_")}),
        ]
    if set(SHIFTS) <= scalars:
        recipes += [
            _Recipe("edge_zero_shifts", shifts="zero"),
            _Recipe("edge_max_bias_shift", shifts="max_bias"),
            _Recipe("edge_max_out_shift", shifts="max_out"),
            _Recipe("edge_max_bias_shift_all_min", fill=-128, shifts="max_bias"),
        ]
    if spec.weights is None and len(spec.input_size.factors) == 1:
        length = spec.input_size.factors[0]
        settings = [n for n in spec.scalars if n in NARROW_RANGES and n not in SHIFTS]
        ranges = [range(NARROW_RANGES[n][0], NARROW_RANGES[n][1] + 1) for n in settings]
        for combo in itertools.product(*ranges):
            fixed = {length: 256, **dict(zip(settings, combo))}
            suffix = "".join(f"_{n}{v}" for n, v in zip(settings, combo))
            recipes.append(_Recipe(f"edge_every_value{suffix}", fixed=fixed, every_value=True))
    return recipes


def arena_need(spec: KernelSpec, p: Mapping[str, int]) -> int:
    """Bytes of the device's kernel arena one call of ``spec`` takes (see REGION_PAD)."""
    regions = [
        spec.input_size(p),
        spec.weights_size(p) if spec.weights_size else 0,
        spec.bias_size(p) if spec.bias_size else 0,
        spec.output_size(p),
    ]
    return sum((n + REGION_PAD + 3) & ~3 for n in regions) + spec.scratch_size(p)


def products_per_output(spec: KernelSpec, p: Mapping[str, int]) -> int:
    """How many int8 products one output's accumulator adds up."""
    return spec.macs(p) // max(spec.output_size(p), 1)


def accumulator_fits(bias_shift: int, out_shift: int, products: int) -> bool:
    """Whether bias << bias_shift, the rounding constant and ``products`` int8 products
    stay inside int32 whatever the data."""
    rounding = (1 << out_shift) >> 1
    top = 127 * (1 << bias_shift) + rounding + products * PRODUCT_MAX
    bottom = -128 * (1 << bias_shift) + rounding - products * PRODUCT_MAX
    return top <= INT32_MAX and bottom >= -INT32_MAX - 1


# -- drawing --------------------------------------------------------------------------


def _draw(spec: KernelSpec, recipe: _Recipe, case_id: str, rng, arena_bytes: int) -> Case:
    for attempt in range(_ATTEMPTS):
        shrink = 0.5 ** (attempt // _SHRINK_EVERY)
        p = _params(spec, recipe, rng, shrink)
        if p is None or arena_need(spec, p) > arena_bytes:
            continue
        validate_params(spec.name, p)  # the reference's word; a refusal here is a bug here
        return Case(spec.name, case_id, p, _arrays(spec, p, recipe, rng))
    raise ConfigError(
        f"{spec.name}: no {recipe.tag} case fits the device's kernel arena of {arena_bytes} bytes",
        hint="rebuild the firmware with a larger -DHIL_KERNEL_ARENA_BYTES",
    )


def _params(spec: KernelSpec, recipe: _Recipe, rng, shrink: float) -> dict[str, int] | None:
    p: dict[str, int] = {}
    for name in spec.scalars:
        if name in SHIFTS:
            p[name] = 0  # drawn once the shape is known
        elif name in NARROW_RANGES:
            lo, hi, _ = NARROW_RANGES[name]
            p[name] = int(rng.integers(lo, hi + 1))
        elif _base(name) == DERIVED:
            p[name] = 0  # _derive_outputs
        elif _base(name) in SHAPE_DRAWS:
            p[name] = _shape(name, rng, shrink)
        else:
            raise AssertionError(
                f"{spec.name}: no draw for parameter {name}; add it to SHAPE_DRAWS"
            )
    p.update(recipe.fixed)
    if not _repair(spec, p, rng):
        return None
    if set(SHIFTS) <= set(p) and not _set_shifts(spec, p, recipe.shifts, rng):
        return None
    return p


def _base(name: str) -> str:
    return name[:-2] if name.endswith(("_x", "_y")) else name


def _shape(name: str, rng, shrink: float) -> int:
    lo, hi, log = SHAPE_DRAWS[_base(name)]
    hi = max(lo, int(hi * shrink))
    if log:
        return min(hi, int(round(math.exp(rng.uniform(math.log(max(lo, 1)), math.log(hi + 1))))))
    return int(rng.integers(lo, hi + 1))


def _axes(spec: KernelSpec):
    return [axis for axis in (*SQUARE, *NONSQUARE) if set(axis) <= set(spec.scalars)]


def _derive_outputs(spec: KernelSpec, p: dict[str, int]) -> None:
    for d_in, k, pad, s, d_out in _axes(spec):
        p[d_out] = formula_out(p[d_in], p[k], p[pad], p[s])


def _repair(spec: KernelSpec, p: dict[str, int], rng) -> bool:
    """Make ``p`` obey the function's rules, fixing the parameter each broken rule refuses;
    output sizes follow the formula unless a rule says otherwise."""
    outputs = {axis[4] for axis in _axes(spec)}
    _derive_outputs(spec, p)
    for _ in range(_REPAIRS):
        rule = next((r for r in spec.all_rules if rule_broken(r, [p[n] for n in r.params])), None)
        if rule is None:
            return True
        name = rule.params[0]
        p[name] = _satisfying(rule, [p[n] for n in rule.params], rng)
        if name not in outputs:
            _derive_outputs(spec, p)
    return False


def _satisfying(rule: Rule, v: list[int], rng) -> int:
    """A value of the rule's first parameter that obeys it, given the others."""
    match rule.op:
        case Op.RANGE:
            return min(max(v[0], rule.lo), rule.hi)
        case Op.LESS:
            return int(rng.integers(0, max(v[1], 1)))
        case Op.NOT_ABOVE | Op.SAME:
            return v[1]
        case Op.MULTIPLE:
            return v[0] + (-v[0] % rule.lo) if v[0] > 0 else rule.lo
        case Op.WINDOW_FITS:
            return formula_out(v[1], v[2], v[3], v[4])
        case Op.LAST_WINDOW:
            return (v[1] + v[2] - 1) // v[3] + 1
    raise AssertionError(f"no repair for {rule.op!r}")


def _set_shifts(spec: KernelSpec, p: dict[str, int], mode: str, rng) -> bool:
    """bias_shift and out_shift over their whole ranges, the accumulator kept in int32.
    False when ``mode`` cannot be met for this shape."""
    k = products_per_output(spec, p)
    bias_max, out_max = NARROW_RANGES["bias_shift"][1], NARROW_RANGES["out_shift"][1]
    if mode == "zero":
        bias, out = 0, 0
    elif mode == "max_bias":
        bias = bias_max
        fitting = [o for o in range(out_max, -1, -1) if accumulator_fits(bias, o, k)]
        if not fitting:
            return False
        out = fitting[0]
    else:
        if mode == "max_out":
            out = out_max
            top = bias_max
        elif rng.random() < 0.3:  # anywhere in the ranges
            out = int(rng.integers(0, out_max + 1))
            top = int(rng.integers(0, bias_max + 1))
        else:  # where the outputs of full-range data land mid-range (about +-64)
            out = min(max(_typical_out_shift(k) + int(rng.integers(-2, 3)), 0), out_max)
            top = int(rng.integers(0, min(out, bias_max) + 1))
        fitting = [b for b in range(top, -1, -1) if accumulator_fits(b, out, k)]
        if not fitting:
            return False
        bias = fitting[0]
    p["bias_shift"], p["out_shift"] = bias, out
    return accumulator_fits(bias, out, k)


def _typical_out_shift(products: int) -> int:
    # A product of two uniform int8 values has a spread of about 74 * 74 = 5461.
    return round(math.log2(5461 * math.sqrt(products) / 64))


def _arrays(spec: KernelSpec, p: Mapping[str, int], recipe: _Recipe, rng) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for name, size in (
        (spec.input, spec.input_size),
        (spec.weights, spec.weights_size),
        (spec.bias, spec.bias_size),
    ):
        if name is None or size is None:
            continue
        n = size(p)
        if recipe.every_value and name == spec.input:
            arrays[name] = np.arange(-128, 128, dtype=np.int16).astype(np.int8)[:n]
        elif recipe.fill is not None:
            arrays[name] = np.full(n, recipe.fill, dtype=np.int8)
        else:
            arrays[name] = _values(n, rng)
    return arrays


def _values(n: int, rng) -> np.ndarray:
    """Full-range int8 data, sometimes only the extremes, small values or ReLU-like."""
    style = rng.random()
    if style < 0.7:
        v = rng.integers(-128, 128, n)
    elif style < 0.8:
        v = rng.choice(np.array([-128, 127]), n)
    elif style < 0.9:
        v = np.rint(rng.normal(0.0, 12.0, n))
    else:
        v = np.maximum(rng.integers(-128, 128, n), 0)
    return np.clip(v, -128, 127).astype(np.int8)
