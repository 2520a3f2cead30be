"""How an input tensor crosses the wire: raw, or zero-run coded when that is smaller.

Zero-run coding (header flag ZERO_RUN on a LOAD_INPUT frame) is a stream of
tokens: a byte t below 0x80 is followed by t + 1 literal bytes, a byte t of
0x80 or more stands for t - 0x7F zero bytes. The firmware decodes it
straight into its input buffer (firmware/src/dispatch.c), so it costs the
device no memory and a few instructions per byte. Images with a blank
background (MNIST: four fifths zeros) shrink about fourfold; data without
zero runs is sent raw, at no cost but the flag bit, which the frame header
has room for.

Each chunk codes its own range of the tensor, so a lost frame loses only
its range; the chunk's offset is in decoded bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from hil.errors import ProtocolError
from hil.protocol import generated as g
from hil.protocol.messages import pack

ZERO_RUN = g.ENUMS["frame_flag"]["ZERO_RUN"]
_RUN = 128  # longest literal or zero run one token stands for
_MIN_ZEROS = 2  # a shorter zero run costs less inside a literal than as its own token


def zero_run_encode(data: bytes) -> bytes:
    """``data`` as zero-run tokens."""
    data = bytes(data)
    out = bytearray()
    literal = bytearray()

    def flush_literal() -> None:
        for i in range(0, len(literal), _RUN):
            part = literal[i : i + _RUN]
            out.append(len(part) - 1)
            out.extend(part)
        literal.clear()

    i, n = 0, len(data)
    while i < n:
        j = i
        while j < n and data[j] == 0:
            j += 1
        zeros = j - i
        if zeros == 0:
            literal.append(data[i])
            i += 1
        elif zeros < _MIN_ZEROS and literal and j < n:
            literal += data[i:j]  # a lone zero between literal bytes
            i = j
        else:
            flush_literal()
            while zeros:
                run = min(zeros, _RUN)
                out.append(0x7F + run)
                zeros -= run
            i = j
    flush_literal()
    return bytes(out)


def zero_run_decode(coded: bytes, limit: int) -> bytes:
    """The bytes ``coded`` stands for; ProtocolError past ``limit`` bytes or mid-literal."""
    out = bytearray()
    i, n = 0, len(coded)
    while i < n:
        t = coded[i]
        i += 1
        if t < 0x80:
            run = t + 1
            if i + run > n:
                raise ProtocolError("zero-run literal cut short")
            piece = coded[i : i + run]
            i += run
        else:
            piece = bytes(t - 0x7F)
        if len(out) + len(piece) > limit:
            raise ProtocolError(f"zero-run chunk decodes beyond {limit} bytes")
        out += piece
    return bytes(out)


@dataclass(frozen=True)
class InputChunk:
    """One LOAD_INPUT frame's worth: header flags, payload, and the raw bytes it stands for."""

    flags: int
    payload: bytes
    raw_bytes: int

    @property
    def coded(self) -> bool:
        return bool(self.flags & ZERO_RUN)


def input_chunks(data: bytes, step: int, *, coding: bool = True) -> list[InputChunk]:
    """LOAD_INPUT payloads of at most ``step`` tensor bytes each (chunk header aside).

    With ``coding``, the whole tensor goes in one zero-run frame when its code
    fits, and otherwise each ``step``-byte range is coded when that is
    smaller than the range itself.
    """
    data = bytes(data)
    if coding:
        whole = zero_run_encode(data)
        if len(whole) <= step and len(whole) < len(data):
            return [InputChunk(ZERO_RUN, pack("chunk", offset=0) + whole, len(data))]
    chunks = []
    for off in range(0, len(data), step):
        raw = data[off : off + step]
        coded = zero_run_encode(raw) if coding else raw
        if coding and len(coded) < len(raw):
            chunks.append(InputChunk(ZERO_RUN, pack("chunk", offset=off) + coded, len(raw)))
        else:
            chunks.append(InputChunk(0, pack("chunk", offset=off) + raw, len(raw)))
    return chunks
