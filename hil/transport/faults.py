"""A misbehaving link on demand: fault injection.

``LinkFaults(spec).wrap(port)`` returns a port (read/write/timeout/close,
like pyserial's) that drops, flips, duplicates and delays bytes, injects
garbage bursts and can cut the connection, in both directions; with
``baud`` in the spec it is also paced like a UART (hil.transport.throttle,
whose wire model carries the delays too). One ``LinkFaults``
outlives reconnections: its random streams and byte counts carry on, so a
cut happens once (or ``cuts`` times) per run, not once per connection.

Faults depend only on the byte position in each direction's stream (one
draw per byte from a seeded generator), so a failing run is reproduced by
its spec string, e.g. ``drop=0.001,flip=0.001,seed=7``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, fields

import numpy as np

from hil.errors import ConfigError
from hil.transport.throttle import Pieces, ThrottledPort


@dataclass(frozen=True)
class FaultSpec:
    drop: float = 0.0  # probability a byte is lost
    flip: float = 0.0  # probability a byte has one bit flipped
    dup: float = 0.0  # probability a byte arrives twice
    delay: float = 0.0  # probability the line stalls before a byte ...
    delay_ms: float = 20.0  # ... for this long
    garbage: float = 0.0  # probability a burst of random bytes follows a byte ...
    garbage_len: int = 16  # ... of 1..garbage_len bytes
    cut_after: int = 0  # cut the connection after this many bytes (both directions; 0: never)
    cut_at: float = 0.0  # ... or this many seconds after the first wrap (0: never)
    cuts: int = 1  # how many cuts, cut_after bytes apart
    baud: int = 0  # pace bytes at this rate, 10 bits per byte (0: unthrottled)
    seed: int = 0

    @property
    def corrupts(self) -> bool:
        return any((self.drop, self.flip, self.dup, self.garbage))

    def __str__(self) -> str:
        parts = [
            f"{f.name}={_fmt(getattr(self, f.name))}"
            for f in fields(self)
            if getattr(self, f.name) != f.default
        ]
        return ",".join(parts) or "none"


_RATES = ("drop", "flip", "dup", "delay", "garbage")


def _fmt(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def parse_spec(text: str) -> FaultSpec:
    """``"drop=0.001,flip=0.001,cut_after=20000,seed=7"`` -> FaultSpec; ConfigError if malformed."""
    known = {f.name: f.type for f in fields(FaultSpec)}
    values: dict[str, float | int] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in known:
            raise ConfigError(
                f"bad link fault item {item!r} in {text!r}",
                hint=f"use key=value pairs with keys: {', '.join(known)}",
            )
        try:
            value = float(raw) if known[key] == "float" else int(float(raw))
        except ValueError:
            raise ConfigError(f"link fault {key}={raw!r} is not a number") from None
        if value < 0 or (key in _RATES and value > 1):
            raise ConfigError(
                f"link fault {key}={raw} out of range",
                hint="rates are probabilities in 0..1; counts and times are >= 0",
            )
        values[key] = value
    return FaultSpec(**values)


@dataclass
class FaultCounts:
    """What the injector did, per run (both directions together)."""

    bytes: int = 0
    dropped: int = 0
    flipped: int = 0
    duplicated: int = 0
    delayed: int = 0
    garbage_bursts: int = 0
    cuts: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


class LinkCut(OSError):
    """Raised by a wrapped port after the injector cut the connection."""


class _Direction:
    """The faults of one direction: a seeded draw per byte, independent of chunking."""

    def __init__(self, spec: FaultSpec, seed: int, counts: FaultCounts) -> None:
        self.spec = spec
        self.counts = counts
        self._draws = np.random.default_rng(seed)
        self._content = np.random.default_rng(seed + 0x5EED)

    def mutate(self, data: bytes) -> Pieces:
        """The bytes to deliver as (stall seconds before, bytes) pieces."""
        s = self.spec
        n = len(data)
        self.counts.bytes += n
        if not n or not (s.corrupts or s.delay):
            return [(0.0, bytes(data))] if n else []
        u = self._draws.random((n, 5))
        hit = (
            (u[:, 0] < s.drop)
            | (u[:, 1] < s.flip)
            | (u[:, 2] < s.dup)
            | (u[:, 3] < s.delay)
            | (u[:, 4] < s.garbage)
        )
        pieces: list[tuple[float, bytes]] = []
        out = bytearray()
        stall = 0.0
        start = 0
        for i in np.flatnonzero(hit):
            out += data[start:i]
            start = i + 1
            if u[i, 3] < s.delay:
                pieces.append((stall, bytes(out)))
                out.clear()
                stall = s.delay_ms / 1000.0
                self.counts.delayed += 1
            if u[i, 0] < s.drop:
                self.counts.dropped += 1
            else:
                byte = data[i]
                if u[i, 1] < s.flip:
                    byte ^= 1 << int(u[i, 1] / s.flip * 8) % 8
                    self.counts.flipped += 1
                out.append(byte)
                if u[i, 2] < s.dup:
                    out.append(byte)
                    self.counts.duplicated += 1
            if u[i, 4] < s.garbage:
                k = int(self._content.integers(1, max(1, s.garbage_len) + 1))
                out += self._content.integers(0, 256, k, dtype=np.uint8).tobytes()
                self.counts.garbage_bursts += 1
        out += data[start:]
        pieces.append((stall, bytes(out)))
        return [p for p in pieces if p[1] or p[0]]


class LinkFaults:
    """The injector for one run; ``wrap`` each (re)opened port with it."""

    def __init__(self, spec: FaultSpec | str) -> None:
        self.spec = parse_spec(spec) if isinstance(spec, str) else spec
        self.counts = FaultCounts()
        self._rx = _Direction(self.spec, self.spec.seed * 2 + 1, self.counts)
        self._tx = _Direction(self.spec, self.spec.seed * 2 + 2, self.counts)
        self._started: float | None = None
        self._lock = threading.Lock()

    def wrap(self, port) -> "FaultyPort":
        if self._started is None:
            self._started = time.monotonic()
        return FaultyPort(port, self)

    def _cut_due(self) -> bool:
        s = self.spec
        if self.counts.cuts >= s.cuts:
            return False
        if s.cut_after and self.counts.bytes >= s.cut_after * (self.counts.cuts + 1):
            return True
        return (
            bool(s.cut_at)
            and self._started is not None
            and time.monotonic() - self._started >= s.cut_at * (self.counts.cuts + 1)
        )


class FaultyPort(ThrottledPort):
    """A port seen through the injector; the wire is paced at ``spec.baud``."""

    def __init__(self, port, faults: LinkFaults) -> None:
        super().__init__(port, faults.spec.baud)
        self._faults = faults
        self._cut = False

    def _outgoing(self, data: bytes) -> Pieces:
        with self._faults._lock:
            return self._faults._tx.mutate(data)

    def _incoming(self, data: bytes) -> Pieces:
        with self._faults._lock:
            return self._faults._rx.mutate(data)

    def _check(self) -> None:
        if self._cut:
            raise LinkCut("link cut by the fault injector")

    def _read_failed(self, exc: Exception) -> None:
        if self._cut:  # the real port was closed under the reader by the cut
            raise LinkCut("link cut by the fault injector") from None

    def _after_transfer(self) -> None:
        with self._faults._lock:
            due = not self._cut and self._faults._cut_due()
            if due:
                self._faults.counts.cuts += 1
        if due:
            self._cut = True
            self._wire.clear()
            try:
                self._port.close()
            finally:
                raise LinkCut("link cut by the fault injector")
