"""Frames: bytes in, bytes out, no I/O.

A frame on the wire is COBS(header + payload + CRC-32) followed by 0x00.
The header is the ``header`` struct of spec.toml (type, flags, seq,
length); the CRC-32 (IEEE, as zlib.crc32) covers header and payload and is
stored little-endian.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from hil.errors import ProtocolError
from hil.protocol import generated as g

_HEADER = struct.Struct(g.STRUCTS["header"][0])


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes = b""
    flags: int = 0  # header flags (enums.frame_flag)


def cobs_encode(data: bytes) -> bytes:
    """COBS without the delimiter; every run ends with a code byte, even an empty last one."""
    out = bytearray()
    for segment in bytes(data).split(b"\x00"):
        while len(segment) >= 254:
            out.append(0xFF)
            out += segment[:254]
            segment = segment[254:]
        out.append(len(segment) + 1)
        out += segment
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0 or i + code > n:
            raise ProtocolError("malformed COBS block in frame")
        out += data[i + 1 : i + code]
        i += code
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def encode(frame: Frame) -> bytes:
    """The wire bytes of one frame, delimiter included."""
    if len(frame.payload) > g.MAX_PAYLOAD:
        raise ProtocolError(
            f"payload of {len(frame.payload)} bytes exceeds the protocol's {g.MAX_PAYLOAD}"
        )
    body = (
        _HEADER.pack(frame.type, frame.flags, frame.seq & 0xFFFF, len(frame.payload))
        + frame.payload
    )
    return cobs_encode(body + struct.pack("<I", zlib.crc32(body))) + b"\x00"


def decode(encoded: bytes) -> Frame:
    """One frame from its COBS bytes (without the delimiter); ProtocolError if damaged."""
    body = cobs_decode(encoded)
    if len(body) < g.HEADER_BYTES + g.CRC_BYTES:
        raise ProtocolError(f"frame of {len(body)} bytes is shorter than header and CRC")
    data, crc = body[:-4], struct.unpack("<I", body[-4:])[0]
    if zlib.crc32(data) != crc:
        raise ProtocolError("frame CRC mismatch")
    ftype, flags, seq, length = _HEADER.unpack_from(data)
    payload = data[g.HEADER_BYTES :]
    if length != len(payload):
        raise ProtocolError(f"frame header says {length} payload bytes, frame has {len(payload)}")
    return Frame(ftype, seq, payload, flags)


class FrameDecoder:
    """Incremental decoder: feed arbitrary byte slices, get whole frames.

    Damaged frames, oversized runs and bytes before the first delimiter are
    dropped and counted; decoding resynchronises on the next 0x00.
    """

    def __init__(self, max_encoded: int = g.MAX_ENCODED) -> None:
        self._buf = bytearray()
        self._max = max_encoded
        self._overflow = False
        self.dropped = 0  # damaged or oversized frames discarded
        self.last_error = ""

    def feed(self, data: bytes) -> list[Frame]:
        frames = []
        for part in _split_keep(data):
            if part == b"\x00":
                frames.extend(self._end())
            elif not self._overflow:
                self._buf += part
                if len(self._buf) > self._max:
                    self._overflow = True
                    self._buf.clear()
        return frames

    def _end(self) -> list[Frame]:
        buf, overflow = bytes(self._buf), self._overflow
        self._buf.clear()
        self._overflow = False
        if overflow:
            self._drop("frame longer than the protocol allows")
            return []
        if not buf:
            return []
        try:
            return [decode(buf)]
        except ProtocolError as exc:
            self._drop(str(exc))
            return []

    def _drop(self, why: str) -> None:
        self.dropped += 1
        self.last_error = why


def _split_keep(data: bytes) -> list[bytes]:
    """Split on 0x00 keeping each delimiter as its own item."""
    out = []
    parts = bytes(data).split(b"\x00")
    for i, part in enumerate(parts):
        if part:
            out.append(part)
        if i < len(parts) - 1:
            out.append(b"\x00")
    return out
