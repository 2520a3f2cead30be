"""Bytes on the wire: a tap on the device's port and an account of what they carried.

``WireTap.wrap(port)`` records every byte each way without changing them;
``account()`` decodes the recorded streams into frames and splits the bytes
into what a user pays for: the input tensor as sent (zero-run coded where
that was smaller), layer outputs, results (digests and counts),
acknowledgements, other control messages, and the framing itself (headers,
CRC, COBS overhead, delimiters). ``input_raw`` is not on the wire: it is
the tensor bytes the input frames stand for, so ``input / input_raw`` is the
coding's ratio.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hil.errors import ProtocolError
from hil.protocol import generated as g
from hil.protocol.frames import FrameDecoder, encode
from hil.protocol.input_coding import ZERO_RUN, zero_run_decode
from hil.protocol.messages import size

# For frames that carry tensor bytes: which struct heads the payload.
_DATA_FRAMES = {
    g.MSG_LOAD_INPUT: ("input", "chunk"),
    g.MSG_LAYER_OUTPUT: ("outputs", "layer_chunk"),
    g.MSG_KERNEL_LOAD: ("input", "kernel_chunk"),
    g.MSG_KERNEL_OUTPUT: ("outputs", "chunk"),
}
_WHOLE_FRAMES = {
    g.MSG_RESULT: "results",
    g.MSG_LAYER_DONE: "results",
    g.MSG_RUN_DONE: "results",
    g.MSG_KERNEL_DONE: "results",
    g.MSG_ACK: "acks",
}
CATEGORIES = ("input", "outputs", "results", "acks", "control", "framing")


@dataclass
class WireAccount:
    to_device: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    to_host: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    unparsed: float = 0  # bytes that did not decode as frames (noise)
    input_raw: float = 0  # tensor bytes the input frames stand for (not on the wire)

    @property
    def total(self) -> float:
        return sum(self.to_device.values()) + sum(self.to_host.values()) + self.unparsed

    @property
    def input_ratio(self) -> float:
        """Input bytes on the wire per tensor byte they carry (1.0: sent raw)."""
        return self.to_device["input"] / self.input_raw if self.input_raw else 1.0

    def per(self, n: int) -> "WireAccount":
        def scale(d: dict[str, float]) -> dict[str, float]:
            return {k: v / n for k, v in d.items()}

        return WireAccount(
            scale(self.to_device), scale(self.to_host), self.unparsed / n, self.input_raw / n
        )


def _classify(stream: bytes, into: dict[str, float]) -> tuple[int, int]:
    """Tally ``stream``'s frames into ``into``; (bytes not in frames, input bytes carried)."""
    decoder = FrameDecoder()
    frames = decoder.feed(stream)
    seen = raw = 0
    for frame in frames:
        wire = len(encode(frame))
        seen += wire
        if frame.type in _DATA_FRAMES:
            what, head = _DATA_FRAMES[frame.type]
            data = max(0, len(frame.payload) - size(head))
            into[what] += data
            into["framing"] += wire - data
            if what == "input":
                raw += _carried(frame.payload[size(head) :], frame.flags)
        elif frame.type in _WHOLE_FRAMES:
            into[_WHOLE_FRAMES[frame.type]] += len(frame.payload)
            into["framing"] += wire - len(frame.payload)
        else:
            into["control"] += len(frame.payload)
            into["framing"] += wire - len(frame.payload)
    return len(stream) - seen, raw


def _carried(data: bytes, flags: int) -> int:
    if not flags & ZERO_RUN:
        return len(data)
    try:
        return len(zero_run_decode(data, g.MAX_PAYLOAD * 128))
    except ProtocolError:
        return 0  # the device refuses it too


class WireTap:
    """Records both directions of every port it wraps (reconnections included)."""

    def __init__(self) -> None:
        self.sent = bytearray()
        self.received = bytearray()

    def wrap(self, port):
        return _TappedPort(port, self)

    def reset(self) -> None:
        self.sent.clear()
        self.received.clear()

    def account(self) -> WireAccount:
        acc = WireAccount()
        noise, acc.input_raw = _classify(bytes(self.sent), acc.to_device)
        acc.unparsed += noise
        acc.unparsed += _classify(bytes(self.received), acc.to_host)[0]
        return acc


class _TappedPort:
    def __init__(self, port, tap: WireTap) -> None:
        self._port = port
        self._tap = tap

    def write(self, data: bytes) -> int:
        n = self._port.write(data)
        self._tap.sent += bytes(data[: n if n is not None else len(data)])
        return n

    def read(self, n: int = 1) -> bytes:
        data = self._port.read(n)
        self._tap.received += data
        return data

    def __getattr__(self, name):
        return getattr(self._port, name)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._port, name, value)
