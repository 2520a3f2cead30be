"""A baud-rate throttle: a port whose bytes take as long as a UART's.

``ThrottledPort(port, baud)`` wraps a pyserial-like port (read/write/timeout/
close) and paces bytes at ``baud`` with 10 bits per byte, both ways: a write
blocks while its bytes go out, and a byte read becomes available once its
last bit has arrived. ``baud=0`` paces nothing.

The model of the wire is a queue of (time its first byte is in, bytes)
pieces. A subclass may reshape what passes through (``_outgoing`` and
``_incoming`` return pieces with a stall before each) and watch the link
(``_check`` before, ``_after_transfer`` after); hil.transport.faults does.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

BITS_PER_BYTE = 10  # start + 8 data + stop
TX_SLICE_S = 0.001  # throttled writes reach the far end in slices this long

Pieces = list[tuple[float, bytes]]  # (seconds the line stalls before, bytes)


class ThrottledPort:
    """A port seen through a wire paced at ``baud``."""

    def __init__(self, port: Any, baud: int = 0) -> None:
        self._port = port
        self._byte_s = BITS_PER_BYTE / baud if baud else 0.0
        self._wire: deque[tuple[float, bytes]] = deque()  # (time its first byte is in, bytes)
        self._wire_free = 0.0  # when the last byte on the wire has arrived
        self._tx_free = 0.0
        self.timeout: float | None = getattr(port, "timeout", None)

    # -- what a subclass may change ---------------------------------------------------

    def _outgoing(self, data: bytes) -> Pieces:
        """What to send for ``data`` written."""
        return [(0.0, data)] if data else []

    def _incoming(self, data: bytes) -> Pieces:
        """What arrives for ``data`` the real port delivered."""
        return [(0.0, data)]

    def _check(self) -> None:
        """Called before every transfer; may raise to refuse it."""

    def _after_transfer(self) -> None:
        """Called after each write and each batch read from the real port."""

    def _read_failed(self, exc: Exception) -> None:
        """Called when the real port's read raised ``exc``; may raise something clearer."""

    # -- pyserial-like surface -------------------------------------------------

    def write(self, data: bytes) -> int:
        self._check()
        for stall, chunk in self._outgoing(bytes(data)):
            if stall:
                self._tx_free = max(self._tx_free, time.monotonic()) + stall
                _sleep_until(self._tx_free)
            if not self._byte_s:
                if chunk:
                    self._port.write(chunk)
                continue
            # A UART write blocks while the bytes go out at the line rate, and
            # the far end sees each byte as it arrives: hand them over in
            # slices of about a millisecond, each once its last bit is out.
            # Deadlines run from the start of the write, so one late wake-up is
            # not carried into every later slice.
            step = max(1, int(TX_SLICE_S / self._byte_s))
            self._tx_free = max(self._tx_free, time.monotonic())
            for i in range(0, len(chunk), step):
                piece = chunk[i : i + step]
                self._tx_free += len(piece) * self._byte_s
                _sleep_until(self._tx_free)
                self._port.write(piece)
        self._after_transfer()
        return len(data)

    def read(self, size: int = 1) -> bytes:
        self._check()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            self._pull(0)
            ready = self._ready(time.monotonic())
            if ready:
                return self._take(min(ready, size))
            now = time.monotonic()
            if self._wire:
                due = self._wire[0][0] + self._byte_s
                if deadline is not None and due > deadline:
                    _sleep_until(deadline)
                    return b""
                _sleep_until(due)
                continue
            left = None if deadline is None else deadline - now
            if left is not None and left <= 0:
                return b""
            if not self._pull(left):
                if deadline is not None and time.monotonic() >= deadline:
                    return b""

    def close(self) -> None:
        self._port.close()

    @property
    def in_waiting(self) -> int:
        self._pull(0)
        return self._ready(time.monotonic())

    def reset_input_buffer(self) -> None:
        self._pull(0)
        self._wire.clear()

    # -- the wire ---------------------------------------------------------------

    def _pull(self, wait: float | None) -> bool:
        """Move what the real port has onto the simulated wire; True if anything came."""
        self._check()
        try:
            self._port.timeout = wait
            data = self._port.read(1)
            if data:
                self._port.timeout = 0
                data += self._port.read(65536)
        except Exception as exc:
            self._read_failed(exc)
            raise
        if not data:
            return False
        pieces = self._incoming(data)
        now = time.monotonic()
        for stall, chunk in pieces:
            start = max(now, self._wire_free) + stall
            self._wire_free = start + len(chunk) * self._byte_s
            if chunk:
                self._wire.append((start, chunk))
        self._after_transfer()
        return True

    def _ready(self, now: float) -> int:
        """Bytes whose last bit has arrived by ``now``."""
        total = 0
        for start, chunk in self._wire:
            if start > now:
                break
            if not self._byte_s:
                total += len(chunk)
                continue
            done = min(len(chunk), int((now - start) / self._byte_s))
            total += done
            if done < len(chunk):
                break
        return total

    def _take(self, n: int) -> bytes:
        out = bytearray()
        while n and self._wire:
            start, chunk = self._wire[0]
            part = chunk[:n]
            out += part
            n -= len(part)
            if len(part) == len(chunk):
                self._wire.popleft()
            else:
                self._wire[0] = (start + len(part) * self._byte_s, chunk[len(part) :])
        return bytes(out)


def _sleep_until(t: float) -> None:
    left = t - time.monotonic()
    if left > 0:
        time.sleep(left)
