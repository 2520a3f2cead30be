"""Per-layer verdicts: a device's layer output against the host reference."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


def crc32(data: np.ndarray) -> int:
    """CRC-32 (IEEE 802.3, as zlib) of an int8 tensor's bytes: the on-device digest."""
    return zlib.crc32(np.ascontiguousarray(data, dtype=np.int8).tobytes()) & 0xFFFFFFFF


# Bins of got - expected: small offsets one by one (the signature of a rounding or
# shift bug), everything larger in the two outer bins.
HISTOGRAM_BINS = ("<-3", "-3", "-2", "-1", "0", "+1", "+2", "+3", ">3")


@dataclass(frozen=True)
class DiffStats:
    """Element statistics of got - expected over one or more same-sized tensors."""

    elements: int
    differing: int
    diff_sum: int
    max_abs_diff: int
    histogram: tuple[int, ...] = field(default=(0,) * len(HISTOGRAM_BINS))

    def __post_init__(self) -> None:
        # Verdicts round-trip through the JSON run log (--resume), which has lists.
        object.__setattr__(self, "histogram", tuple(int(n) for n in self.histogram))

    @classmethod
    def of(cls, expected: np.ndarray, got: np.ndarray) -> DiffStats:
        diff = (
            np.asarray(got, dtype=np.int16).ravel() - np.asarray(expected, dtype=np.int16).ravel()
        )
        clipped = np.clip(diff, -4, 4) + 4  # -4 stands for "<-3", +4 for ">3"
        return cls(
            elements=int(diff.size),
            differing=int(np.count_nonzero(diff)),
            diff_sum=int(diff.sum()),
            max_abs_diff=int(np.abs(diff).max()) if diff.size else 0,
            histogram=tuple(int(n) for n in np.bincount(clipped, minlength=len(HISTOGRAM_BINS))),
        )

    def merged(self, other: DiffStats | None) -> DiffStats:
        if other is None:
            return self
        return DiffStats(
            self.elements + other.elements,
            self.differing + other.differing,
            self.diff_sum + other.diff_sum,
            max(self.max_abs_diff, other.max_abs_diff),
            tuple(a + b for a, b in zip(self.histogram, other.histogram)),
        )

    @property
    def share(self) -> float:
        """The fraction of elements that differ."""
        return self.differing / self.elements if self.elements else 0.0

    @property
    def mean_diff(self) -> float:
        """The signed mean of got - expected over all elements (a bias, if any)."""
        return self.diff_sum / self.elements if self.elements else 0.0

    def hint(self) -> str | None:
        """One-sided errors in words; None when the differences have both signs (or none)."""
        if self.differing == 0:
            return None
        negative = sum(self.histogram[:4])
        positive = sum(self.histogram[5:])
        for offset, index in ((-1, 3), (+1, 5)):
            if self.histogram[index] == self.differing:
                return f"all differences are {offset:+d}: a rounding offset?"
        if negative == self.differing:
            return "all differences are negative (got < expected): a one-sided bias?"
        if positive == self.differing:
            return "all differences are positive (got > expected): a one-sided bias?"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "elements": self.elements,
            "differing": self.differing,
            "share": self.share,
            "mean_diff": self.mean_diff,
            "max_abs_diff": self.max_abs_diff,
            "histogram": dict(zip(HISTOGRAM_BINS, self.histogram)),
            "hint": self.hint(),
        }


def _as_stats(value: DiffStats | dict[str, Any] | None) -> DiffStats | None:
    if value is None or isinstance(value, DiffStats):
        return value
    return DiffStats(**value)


@dataclass(frozen=True)
class LayerVerdict:
    """How one layer of one vector compared.

    With a full dump the element statistics are exact. With only a digest,
    ``mismatches`` is None when the digests differ: the device did not send
    the elements, so their number is unknown.

    ``isolated_matched`` judges the layer alone: the device output against the
    reference kernel fed with the device's own input to that layer. It is None
    when the host lacks the tensors for it (digest only).
    """

    vector: int
    layer: int
    matched: bool
    mismatches: int | None
    max_abs_diff: int | None
    first_mismatch: int | None
    expected_at_first: int | None
    got_at_first: int | None
    ticks: int | None
    from_digest: bool
    stats: DiffStats | None = None
    isolated_matched: bool | None = None
    isolated_stats: DiffStats | None = None

    def __post_init__(self) -> None:
        # The JSON run log stores the statistics as plain dicts (see hil.validate.resume).
        object.__setattr__(self, "stats", _as_stats(self.stats))
        object.__setattr__(self, "isolated_stats", _as_stats(self.isolated_stats))


def compare_layer(
    vector: int,
    layer: int,
    expected: np.ndarray,
    got: np.ndarray | None,
    got_crc: int | None,
    ticks: int | None,
) -> LayerVerdict:
    """Compare one layer. ``got`` (full tensor) wins over ``got_crc`` (digest)."""
    if got is not None:
        exp = np.asarray(expected, dtype=np.int8).ravel()
        dev = np.asarray(got, dtype=np.int8).ravel()
        if exp.size != dev.size:
            return LayerVerdict(
                vector, layer, False, max(exp.size, dev.size), None, 0, None, None, ticks, False
            )
        stats = DiffStats.of(exp, dev)
        if stats.differing == 0:
            return LayerVerdict(vector, layer, True, 0, 0, None, None, None, ticks, False, stats)
        first = int(np.flatnonzero(exp != dev)[0])
        return LayerVerdict(
            vector,
            layer,
            False,
            stats.differing,
            stats.max_abs_diff,
            first,
            int(exp[first]),
            int(dev[first]),
            ticks,
            False,
            stats,
        )
    if got_crc is None:
        raise ValueError("a layer result needs a tensor or a digest")
    ok = crc32(expected) == got_crc
    return LayerVerdict(
        vector, layer, ok, 0 if ok else None, 0 if ok else None, None, None, None, ticks, True
    )


def with_isolated(verdict: LayerVerdict, isolated: LayerVerdict | None) -> LayerVerdict:
    """``verdict`` with the isolated judgement of ``isolated`` (None: no isolated verdict)."""
    if isolated is None:
        return verdict
    return replace(verdict, isolated_matched=isolated.matched, isolated_stats=isolated.stats)
