"""Per-layer verdicts: a device's layer output against the host reference."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np


def crc32(data: np.ndarray) -> int:
    """CRC-32 (IEEE 802.3, as zlib) of an int8 tensor's bytes: the on-device digest."""
    return zlib.crc32(np.ascontiguousarray(data, dtype=np.int8).tobytes()) & 0xFFFFFFFF


@dataclass(frozen=True)
class LayerVerdict:
    """How one layer of one vector compared.

    With a full dump the element statistics are exact. With only a digest,
    ``mismatches`` is None when the digests differ: the device did not send
    the elements, so their number is unknown.
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
        diff = np.abs(exp.astype(np.int16) - dev.astype(np.int16))
        bad = np.flatnonzero(diff)
        if bad.size == 0:
            return LayerVerdict(vector, layer, True, 0, 0, None, None, None, ticks, False)
        first = int(bad[0])
        return LayerVerdict(
            vector,
            layer,
            False,
            int(bad.size),
            int(diff.max()),
            first,
            int(exp[first]),
            int(dev[first]),
            ticks,
            False,
        )
    if got_crc is None:
        raise ValueError("a layer result needs a tensor or a digest")
    ok = crc32(expected) == got_crc
    return LayerVerdict(
        vector, layer, ok, 0 if ok else None, 0 if ok else None, None, None, None, ticks, True
    )
