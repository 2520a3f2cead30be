"""The vocabulary the catalogue is written in: rules on scalar parameters and sizes.

A rule refuses exactly one parameter, its first. The host interpreter is
hil.reference.validation, the device one firmware/src/kcheck.c; both walk a
kernel's rule groups in order and stop at the first broken rule, so both name
the same parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from math import prod
from typing import Mapping

Params = Mapping[str, int]


class Op(IntEnum):
    """What a rule compares. Names are the C ones (KOP_<name> in kcheck_tables.h)."""

    # Rule.params are (a, b, c, d, e); a is the parameter refused.
    RANGE = 1  # lo <= a <= hi
    LESS = 2  # a < b: padding smaller than the kernel
    NOT_ABOVE = 3  # a <= b
    SAME = 4  # a == b
    MULTIPLE = 5  # a % lo == 0
    # (dim_out, dim_in, kernel, padding, stride): dim_out within the formula's output size
    WINDOW_FITS = 6  # a <= (b + 2 * d - c) // e + 1
    # (dim_out, dim_in, padding, stride): the last pooling window overlaps the image
    LAST_WINDOW = 7  # (a - 1) * d - c < b


@dataclass(frozen=True)
class Rule:
    """One check on ``params[0]`` (the parameter refused), comparing it with the others.

    ``message`` and ``hint`` are str.format templates of the host's error: ``{p0}``..
    are the parameter names, ``{v0}``.. their values, ``{lo}``, ``{hi}`` the bounds
    and ``{limit}`` the formula output size (WINDOW_FITS).
    """

    op: Op
    params: tuple[str, ...]
    message: str
    hint: str
    lo: int = 0
    hi: int = 0


@dataclass(frozen=True)
class RuleGroup:
    """Rules several kernels share, applied in order; ``name`` names its C table."""

    name: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Size:
    """``coef`` times the product of the named scalar parameters (1 when none).

    Called on the parameters it gives a byte count, which for q7 data is also
    the element count.
    """

    factors: tuple[str, ...] = ()
    coef: int = 1

    def __call__(self, p: Params) -> int:
        return self.coef * prod(p[f] for f in self.factors)


NO_SIZE = Size(coef=0)


def size(*factors: str, coef: int = 1) -> Size:
    return Size(tuple(factors), coef)
