"""Request/response over a pyserial port (any URL: socket://, loop://, /dev/tty...).

Stop-and-wait: one request in flight, every response echoes the request's
seq, and frames with any other seq (late duplicates after a retry, the
boot HELLO) are dropped. A FAULT frame from the device is raised as
DeviceFault whatever it answers; an unprompted HELLO (seq 0: the device
rebooted) as DeviceReset. Frames that fail COBS/CRC never get this far
(FrameDecoder drops them), so nothing damaged is ever returned.

Recovery below the session: a request is resent with the same seq when no
answer came within ``resend_after`` or the device says it arrived damaged.
``reopen()`` replaces a dead connection through the opener the link was
made with (a cut cable, an emulator's socket); ``stats`` counts it all.
"""

from __future__ import annotations

import math
import socket
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from hil.errors import (
    DeviceError,
    DeviceReset,
    LinkBroken,
    LinkTimeout,  # noqa: F401
    ProtocolError,
    WatchdogReset,
)
from hil.protocol import generated as g
from hil.protocol.fault import WATCHDOG_HINT, DeviceFault, decode_fault
from hil.protocol.frames import Frame, FrameDecoder, encode
from hil.protocol.messages import MESSAGE_NAMES, STATUS_NAMES, text, unpack

DEFAULT_TIMEOUT = 5.0
DEFAULT_RETRIES = 5
_POLL = 0.05  # longest single wait for the first byte of a read
_CHUNK = 65536
_TAIL = 64  # bytes of received data quoted in timeout errors
# The device could not read the request: whatever seq the ERROR carries (a
# damaged header has none worth trusting), resend.
_RESEND = {g.STATUS["BAD_CRC"], g.STATUS["BAD_FRAME"], g.STATUS["BAD_LENGTH"]}

Opener = Callable[[], object]  # returns a fresh port (read/write/timeout/close)
# alive(grace) raises DeviceGone once the device has ended, waiting up to ``grace``
# seconds for an end that is under way (a socket closes just before its process exits).
AliveCheck = Callable[[float], None]
GONE_GRACE = 1.0  # after a failed read or write: long enough for a dying emulator to exit


def hello_rebooted_by_watchdog(payload: bytes) -> bool:
    try:
        return unpack("hello", payload)[0]["reset_cause"] == g.ENUMS["reset_cause"]["WATCHDOG"]
    except ProtocolError:
        return False  # not a HELLO this host can read: the handshake will say so


@dataclass
class LinkStats:
    retransmissions: int = 0  # requests sent again (timeout or damaged on arrival)
    damaged_frames: int = 0  # device frames dropped by COBS/CRC/length checks
    stale_frames: int = 0  # intact frames answering an earlier request
    reconnects: int = 0  # connections reopened after a cut
    resets_seen: int = 0  # unprompted HELLOs: the device rebooted

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def open_port(url: str, *, baudrate: int = 115200):
    """A pyserial port for ``url``; DeviceError naming the URL if it cannot open."""
    import serial

    try:
        # exclusive: a tty another program holds is refused, not silently shared.
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=_POLL, exclusive=True)
        _no_delay(port)
        return port
    except (serial.SerialException, ValueError, OSError) as exc:
        busy = "lock" in str(exc).lower() or "busy" in str(exc).lower()
        raise DeviceError(
            f"cannot open device link {url!r}: "
            f"{'the port is busy (held by another program)' if busy else exc}",
            hint="check the port exists and no other program (a terminal, another hil run) "
            "holds it; for an emulator, check it is still running",
        ) from exc


def _no_delay(port) -> None:
    """Small frames go out at once on a TCP link (socket://): without it, Nagle's
    algorithm holds a RUN behind the input's unacknowledged bytes for tens of ms."""
    sock = getattr(port, "_socket", None)
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Link:
    """Frames over one open port. ``port`` needs read(n), write(b), timeout and close()."""

    def __init__(
        self,
        port,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        log_path: str | Path | None = None,
        resend_after: float | None = None,
        opener: Opener | None = None,
        alive: AliveCheck | None = None,
        byte_s: float = 0.0,
    ) -> None:
        self._port = port
        # Seconds the device takes to take in one byte (a UART at its baud, an
        # emulator's at its own pace): waits grow by what is still on its way.
        self.byte_s = byte_s
        self._unanswered = 0  # bytes sent since the last frame arrived
        self.timeout = timeout
        self.retries = retries
        self.resend_after = timeout if resend_after is None else min(resend_after, timeout)
        self.log_path = log_path
        self._opener = opener
        self._alive = alive
        self._decoder = FrameDecoder()
        self._queue: deque[Frame] = deque()
        self._tail = bytearray()
        self._seq = 0
        self._dropped_before = 0
        self.stats = LinkStats()
        self.broken = False  # the connection failed; reopen() before using it again
        self._answered_any = False  # until then a HELLO seq 0 is the boot greeting
        self._damage_reports = 0  # requests the device said arrived damaged

    @classmethod
    def open(
        cls,
        url: str,
        *,
        baudrate: int = 115200,
        wrap: Callable[[object], object] | None = None,
        **kwargs,
    ) -> "Link":
        """Open ``url``; ``wrap`` (e.g. LinkFaults.wrap) is applied to every port, reopened too."""

        def opener():
            port = open_port(url, baudrate=baudrate)
            return wrap(port) if wrap is not None else port

        return cls(opener(), opener=opener, **kwargs)

    def counters(self) -> dict[str, int]:
        """``stats`` as a dict, the decoder's damaged-frame count brought up to date."""
        self._sync_damaged()
        return self.stats.as_dict()

    @property
    def damage_seen(self) -> int:
        """Frames damaged either way so far: dropped here, or reported by the device.
        Unlike retransmissions, a slow answer (a resend on timeout) adds nothing."""
        self._sync_damaged()
        return self.stats.damaged_frames + self._damage_reports

    @property
    def stale_frames(self) -> int:
        return self.stats.stale_frames

    def close(self) -> None:
        try:
            self._port.close()
        except Exception:  # closing a cut or vanished port must not mask the real error
            pass

    def reopen(self) -> None:
        """Replace the connection (after a cut); DeviceError if it cannot be reopened."""
        if self._opener is None:
            raise DeviceError(
                "the link to the device was lost and cannot be reopened", hint=self._log_hint()
            )
        self.close()
        self._sync_damaged()
        try:
            self._port = self._opener()
        except DeviceError:
            self._check_gone()
            raise
        self._decoder = FrameDecoder()
        self._dropped_before = 0
        self._queue.clear()
        self._unanswered = 0
        self.broken = False
        self.stats.reconnects += 1

    def _sync_damaged(self) -> None:
        self.stats.damaged_frames += self._decoder.dropped - self._dropped_before
        self._dropped_before = self._decoder.dropped

    def __enter__(self) -> "Link":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- raw frames -------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """The seq of the request sent last."""
        return self._seq

    def next_seq(self) -> int:
        self._seq = self._seq % 0xFFFF + 1  # 1..65535; 0 is the device's own HELLO
        return self._seq

    def in_flight_s(self) -> float:
        """How long the device may still be taking in what was sent since its last frame."""
        return self._unanswered * self.byte_s

    def send(self, frame: Frame) -> None:
        data = encode(frame)
        self._unanswered += len(data)
        try:
            self._port.write(data)
        except Exception as exc:  # pyserial raises SerialException or OSError
            self.broken = True
            self._check_gone()
            raise LinkBroken(f"writing to the device failed: {exc}", hint=self._log_hint()) from exc

    def receive(self, timeout: float, expected: str) -> Frame:
        """The next whole frame within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._queue:
            if self._alive is not None:
                self._alive(0.0)
            left = deadline - time.monotonic()
            if left <= 0:
                self._sync_damaged()
                raise self._timeout_error(expected, timeout)
            data = self._read_some(min(left, _POLL))
            if data:
                self._tail = (self._tail + data)[-_TAIL:]
                self._queue.extend(self._decoder.feed(data))
        self._unanswered = 0
        return self._queue.popleft()

    def _read_some(self, wait: float) -> bytes:
        # pyserial's socket:// read(n) waits for all n bytes: wait for one,
        # then take whatever else is already there without waiting.
        try:
            self._port.timeout = wait
            data = self._port.read(1)
            if data:
                self._port.timeout = 0
                data += self._port.read(_CHUNK)
            return data
        except Exception as exc:
            self.broken = True
            self._check_gone()
            raise LinkBroken(
                f"reading from the device failed: {exc}", hint=self._log_hint()
            ) from exc

    def _check_gone(self) -> None:
        """A failed connection to a device that has ended is DeviceGone, never a link error."""
        if self._alive is not None:
            self._alive(GONE_GRACE)

    def flush_input(self) -> None:
        """Drop everything received so far (e.g. boot output before the first request)."""
        self._queue.clear()
        while self._read_some(0):
            pass
        self._sync_damaged()
        self._decoder = FrameDecoder()
        self._dropped_before = 0

    # -- request / response -------------------------------------------------

    def request(
        self,
        msg: int,
        payload: bytes = b"",
        *,
        expect: Iterable[int],
        timeout: float | None = None,
        retries: int | None = None,
        flags: int = 0,
    ) -> Frame:
        """Send ``msg`` and return the first response of a type in ``expect``.

        Resent (same seq) after ``resend_after`` without an answer and when
        the device reports the request arrived damaged, up to ``retries``
        times; only for requests that are safe to repeat.
        """
        expect = frozenset(expect)
        wait = self.resend_after if timeout is None else min(timeout, self.resend_after)
        if retries is None:
            # Resends are for frames lost on the wire; a device that is only slow (an
            # emulator on a loaded machine) still gets the whole reply timeout.
            patience = self.timeout if timeout is None else timeout
            # Each try also waits for the request itself to be taken in (exchange).
            per_try = wait + (len(payload) + g.HEADER_BYTES + g.CRC_BYTES) * self.byte_s
            retries = (
                max(self.retries, math.ceil(patience / per_try) - 1)
                if per_try > 0
                else self.retries
            )
        for frame in self.exchange(
            msg, payload, until=expect, timeout=wait, retries=retries, flags=flags
        ):
            if frame.type not in expect:
                raise ProtocolError(
                    f"device answered {MESSAGE_NAMES.get(msg, hex(msg))} with "
                    f"{MESSAGE_NAMES.get(frame.type, hex(frame.type))}"
                )
            return frame
        raise ProtocolError("no response")  # unreachable: exchange ends with an expected frame

    def check_device_event(self, frame: Frame, doing: str, *, hello_expected: bool = False) -> None:
        """Raise for a frame that ends whatever was under way: a fault report,
        or a boot HELLO after the device had already answered (it restarted)."""
        if frame.type == g.MSG_FAULT:
            raise DeviceFault(decode_fault(frame.payload))
        if frame.type == g.MSG_HELLO and frame.seq == 0 and self._answered_any:
            if hello_rebooted_by_watchdog(frame.payload):
                self.stats.resets_seen += 1
                raise WatchdogReset(
                    f"the device's watchdog rebooted it while {doing}: the firmware stopped "
                    "making progress",
                    hint=WATCHDOG_HINT,
                )
            if not hello_expected:
                self.stats.resets_seen += 1
                raise DeviceReset(f"the device restarted while {doing}", hint=self._log_hint())

    def exchange(
        self,
        msg: int,
        payload: bytes = b"",
        *,
        until: Iterable[int],
        timeout: float | Callable[[], float] | None = None,
        retries: int | None = 0,
        sent: Callable[[], None] | None = None,
        flags: int = 0,
    ) -> Iterator[Frame]:
        """Send ``msg``; yield each response frame up to and including one in ``until``.

        ``timeout`` bounds the wait for each frame, not the whole stream; a
        callable is asked before each wait (the caller knows how much work
        the device does before its next frame). ``sent`` is called once the
        request is out, before any wait: the moment to send ahead.
        """
        until = frozenset(until)
        timeout = self.timeout if timeout is None else timeout
        given = timeout if callable(timeout) else (lambda: timeout)

        def wait() -> float:
            # A large request (a 4 KiB chunk into an emulator's slow UART) is
            # answered only once it is all in: no resend before then.
            return given() + self.in_flight_s()

        retries = self.retries if retries is None else retries
        name = MESSAGE_NAMES.get(msg, hex(msg))
        expected = (
            f"{' or '.join(sorted(MESSAGE_NAMES.get(t, hex(t)) for t in until))} answering {name}"
        )
        seq = self.next_seq()
        frame = Frame(msg, seq, payload, flags)
        self.send(frame)
        if sent is not None:
            sent()
        answered = False
        while True:
            try:
                got = self.receive(wait(), expected)
            except DeviceError:
                if answered or retries <= 0 or self.broken:
                    raise
                retries -= 1
                self._resend(frame)
                continue
            self.check_device_event(got, f"serving {name}", hello_expected=msg == g.MSG_HELLO_REQ)
            if got.type == g.MSG_ERROR and not answered:
                status = unpack("error", got.payload, exact=False)[0]["status"]
                if status in _RESEND:
                    self._damage_reports += 1
                if status in _RESEND and retries > 0:
                    retries -= 1
                    self._resend(frame)
                    continue
            if got.seq != seq:
                self.stats.stale_frames += 1
                continue
            if got.type == g.MSG_ERROR:
                raise self._device_error(name, got.payload)
            answered = self._answered_any = True
            yield got
            if got.type in until:
                return

    def _resend(self, frame: Frame) -> None:
        self.stats.retransmissions += 1
        # What went before was lost or has been taken in by now: the wait is
        # for this copy, not for every copy a silent device has not answered.
        self._unanswered = 0
        self.send(frame)

    # -- errors ---------------------------------------------------------------

    def _device_error(self, request: str, payload: bytes) -> ProtocolError:
        fields, detail = unpack("error", payload, exact=False)
        status = STATUS_NAMES.get(fields["status"], str(fields["status"]))
        return ProtocolError(
            f"device refused {request}: {status} ({text(detail)})",
            hint="the host and firmware disagree about the protocol or the model; rebuild and "
            "flash the firmware with this hil version",
        )

    def _timeout_error(self, expected: str, timeout: float) -> LinkTimeout:
        tail = self._tail.hex(" ") if self._tail else "nothing"
        dropped = (
            f"; {self._decoder.dropped} damaged frame(s) dropped ({self._decoder.last_error})"
            if self._decoder.dropped
            else ""
        )
        return LinkTimeout(
            f"timed out after {timeout:.3g} s waiting for {expected}; "
            f"last bytes received: {tail}{dropped}",
            hint=self._log_hint(),
        )

    def log_hint(self) -> str:
        """What to check, with the device log's path: for errors raised above the link."""
        return self._log_hint()

    def _log_hint(self) -> str:
        hint = "check the device is running hil firmware and the port/baud rate are right"
        if self.log_path:
            hint += f"; device log: {self.log_path}"
        return hint
