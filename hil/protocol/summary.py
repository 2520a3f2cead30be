"""The RESULT frame of a SUMMARY run: one vector's whole run in a few bytes.

Fixed part (struct ``result``): the CRC-32 of the input the run started
from, a digest over every layer's CRC-32 (see ``layers_digest``) and one
coding byte. ``result_stop`` follows when the run did not end with every
layer succeeding. Then the layers' ticks, coded against the base run the
host named in RUN (``enums.counts``): nothing when they are all the same
(an emulator under -icount), zigzag LEB128 deltas when the device still
held the base run, LEB128 values otherwise.

The device cannot know which layers matched, only the host can: so the
common case, everything right, is one digest the host checks against its
own reference, and per-layer digests cost a DETAIL request only when it
differs (hil/device/inference.py).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Sequence

from hil.errors import ProtocolError
from hil.protocol import generated as g
from hil.protocol.messages import pack, size, unpack

SAME, DELTA, FULL = (g.ENUMS["counts"][k] for k in ("SAME", "DELTA", "FULL"))
STOPPED = g.ENUMS["result_flag"]["STOPPED"]
_COUNTS_MASK = 3
_U64 = (1 << 64) - 1


def layers_digest(crcs: Sequence[int]) -> int:
    """CRC-32 over the layers' CRC-32s, each little-endian, in layer order."""
    return zlib.crc32(struct.pack(f"<{len(crcs)}I", *crcs))


@dataclass(frozen=True)
class Summary:
    input_crc32: int
    digest: int
    layers_run: int
    status: int  # the last layer's kernel status (0 unless it refused its call)
    ticks: tuple[int, ...]  # one per layer run


def leb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_leb128(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ProtocolError("RESULT counts cut short or malformed")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _zigzag(delta: int) -> int:
    return ((delta << 1) ^ (delta >> 63)) & _U64


def _unzigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def encode_result(
    input_crc32: int,
    crcs: Sequence[int],
    ticks: Sequence[int],
    *,
    num_layers: int,
    status: int = 0,
    base: Sequence[int] | None = None,
) -> bytes:
    """A RESULT payload as the firmware writes it (for fakes and tests)."""
    layers_run = len(crcs)
    if base is None or len(base) < layers_run:
        coding = FULL
    elif all(t == b for t, b in zip(ticks, base)):
        coding = SAME
    else:
        coding = DELTA
    stopped = layers_run != num_layers or status != 0
    head = pack(
        "result",
        input_crc32=input_crc32,
        digest=layers_digest(crcs),
        coding=coding | (STOPPED if stopped else 0),
    )
    if stopped:
        head += pack("result_stop", layers_run=layers_run, status=status)
    if coding == FULL:
        head += b"".join(leb128(t) for t in ticks)
    elif coding == DELTA:
        head += b"".join(leb128(_zigzag(t - b)) for t, b in zip(ticks, base or ()))
    return head


def decode_result(payload: bytes, *, num_layers: int, base: Sequence[int] | None) -> Summary:
    """A RESULT payload; ``base`` is the ticks of the run named as base in RUN.

    ProtocolError if it is malformed, or codes its counts against a base
    the host does not have.
    """
    f, rest = unpack("result", payload, exact=False)
    coding = f["coding"]
    layers_run, status = num_layers, 0
    if coding & STOPPED:
        stop, rest = unpack("result_stop", rest, exact=False)
        layers_run, status = stop["layers_run"], stop["status"]
    if layers_run > num_layers:
        raise ProtocolError(f"RESULT says {layers_run} layers ran, the model has {num_layers}")
    counts = coding & _COUNTS_MASK
    if counts in (SAME, DELTA) and (base is None or len(base) < layers_run):
        raise ProtocolError("RESULT codes its counts against a run this host does not hold")
    if counts == SAME:
        ticks = tuple(base[:layers_run]) if base is not None else ()
        pos = 0
    elif counts in (DELTA, FULL):
        values, pos = [], 0
        for i in range(layers_run):
            v, pos = _read_leb128(rest, pos)
            values.append(v if counts == FULL else (base[i] + _unzigzag(v)) & _U64)  # type: ignore[index]
        ticks = tuple(values)
    else:
        raise ProtocolError(f"RESULT counts coding {counts} is not one this host knows")
    if pos != len(rest):
        raise ProtocolError(f"RESULT has {len(rest) - pos} bytes after its counts")
    return Summary(f["input_crc32"], f["digest"], layers_run, status, ticks)


RESULT_BYTES = size("result")
