"""Outputs that arrive in chunks: placed by offset, then assembled and checked
against the device's own size and CRC-32."""

from __future__ import annotations

import zlib

import numpy as np

from hil.device.dump import PROTOCOL_MODES
from hil.errors import ProtocolError


def place(buf: bytearray, offset: int, data: bytes) -> None:
    """Put a chunk in place; a repeated chunk overwrites identically."""
    if len(buf) < offset:
        buf.extend(bytes(offset - len(buf)))
    buf[offset : offset + len(data)] = data


def assemble(buf: bytearray, done: dict, mode: int, what: str) -> np.ndarray | None:
    if mode != PROTOCOL_MODES["all"]:
        return None
    if len(buf) != done["size"]:
        raise ProtocolError(f"{what}: received {len(buf)} of {done['size']} output bytes")
    if zlib.crc32(buf) != done["crc32"]:
        raise ProtocolError(f"{what}: output CRC-32 differs from the device's digest")
    return np.frombuffer(bytes(buf), dtype=np.int8).copy()
