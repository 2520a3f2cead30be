"""Request/response over a pyserial port (any URL: socket://, loop://, /dev/tty...).

Stop-and-wait: one request in flight, every response echoes the request's
seq, and frames with any other seq (late duplicates after a retry, the
boot HELLO) are dropped. A FAULT frame from the device is raised as
DeviceFault whatever it answers.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Iterable, Iterator

from hil.errors import DeviceError, ProtocolError
from hil.protocol import generated as g
from hil.protocol.fault import DeviceFault, decode_fault
from hil.protocol.frames import Frame, FrameDecoder, encode
from hil.protocol.messages import MESSAGE_NAMES, STATUS_NAMES, text, unpack

DEFAULT_TIMEOUT = 5.0
DEFAULT_RETRIES = 2
_POLL = 0.05          # longest single wait for the first byte of a read
_CHUNK = 65536
_TAIL = 64            # bytes of received data quoted in timeout errors
_RESEND = {g.STATUS["BAD_CRC"], g.STATUS["BAD_FRAME"]}


def open_port(url: str, *, baudrate: int = 115200):
    """A pyserial port for ``url``; DeviceError naming the URL if it cannot open."""
    import serial

    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=_POLL)
    except (serial.SerialException, ValueError, OSError) as exc:
        raise DeviceError(
            f"cannot open device link {url!r}: {exc}",
            hint="check the port exists and no other program (a terminal, another hil run) "
                 "holds it; for an emulator, check it is still running",
        ) from exc


class Link:
    """Frames over one open port. ``port`` needs read(n), write(b), timeout and close()."""

    def __init__(self, port, *, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, log_path: str | Path | None = None) -> None:
        self._port = port
        self.timeout = timeout
        self.retries = retries
        self.log_path = log_path
        self._decoder = FrameDecoder()
        self._queue: deque[Frame] = deque()
        self._tail = bytearray()
        self._seq = 0
        self.stale_frames = 0   # frames dropped because their seq was not awaited

    @classmethod
    def open(cls, url: str, *, baudrate: int = 115200, **kwargs) -> "Link":
        return cls(open_port(url, baudrate=baudrate), **kwargs)

    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> "Link":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- raw frames -------------------------------------------------------

    def next_seq(self) -> int:
        self._seq = self._seq % 0xFFFF + 1   # 1..65535; 0 is the device's own HELLO
        return self._seq

    def send(self, frame: Frame) -> None:
        try:
            self._port.write(encode(frame))
        except Exception as exc:  # pyserial raises SerialException or OSError
            raise DeviceError(f"writing to the device failed: {exc}",
                              hint=self._log_hint()) from exc

    def receive(self, timeout: float, expected: str) -> Frame:
        """The next whole frame within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._queue:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._timeout_error(expected, timeout)
            data = self._read_some(min(left, _POLL))
            if data:
                self._tail = (self._tail + data)[-_TAIL:]
                self._queue.extend(self._decoder.feed(data))
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
            raise DeviceError(f"reading from the device failed: {exc}",
                              hint=self._log_hint()) from exc

    def flush_input(self) -> None:
        """Drop everything received so far (e.g. boot output before the first request)."""
        self._queue.clear()
        while self._read_some(0):
            pass
        self._decoder = FrameDecoder()

    # -- request / response -------------------------------------------------

    def request(self, msg: int, payload: bytes = b"", *, expect: Iterable[int],
                timeout: float | None = None, retries: int | None = None) -> Frame:
        """Send ``msg`` and return the first response of a type in ``expect``.

        Retried (same seq) on timeout and when the device reports the
        request arrived damaged; only for requests that are safe to repeat.
        """
        expect = frozenset(expect)
        for frame in self.exchange(msg, payload, until=expect, timeout=timeout, retries=retries):
            if frame.type not in expect:
                raise ProtocolError(
                    f"device answered {MESSAGE_NAMES.get(msg, hex(msg))} with "
                    f"{MESSAGE_NAMES.get(frame.type, hex(frame.type))}")
            return frame
        raise ProtocolError("no response")  # unreachable: exchange ends with an expected frame

    def exchange(self, msg: int, payload: bytes = b"", *, until: Iterable[int],
                 timeout: float | None = None, retries: int | None = 0) -> Iterator[Frame]:
        """Send ``msg``; yield each response frame up to and including one in ``until``.

        ``timeout`` bounds the wait for each frame, not the whole stream.
        """
        until = frozenset(until)
        timeout = self.timeout if timeout is None else timeout
        retries = self.retries if retries is None else retries
        name = MESSAGE_NAMES.get(msg, hex(msg))
        expected = f"{' or '.join(sorted(MESSAGE_NAMES.get(t, hex(t)) for t in until))} " \
                   f"answering {name}"
        seq = self.next_seq()
        frame = Frame(msg, seq, payload)
        self.send(frame)
        answered = False
        while True:
            try:
                got = self.receive(timeout, expected)
            except DeviceError:
                if answered or retries <= 0:
                    raise
                retries -= 1
                self.send(frame)
                continue
            if got.type == g.MSG_FAULT:
                raise DeviceFault(decode_fault(got.payload))
            if got.seq != seq:
                self.stale_frames += 1
                continue
            if got.type == g.MSG_ERROR:
                status = unpack("error", got.payload, exact=False)[0]["status"]
                if status in _RESEND and not answered and retries > 0:
                    retries -= 1
                    self.send(frame)
                    continue
                raise self._device_error(name, got.payload)
            answered = True
            yield got
            if got.type in until:
                return

    # -- errors ---------------------------------------------------------------

    def _device_error(self, request: str, payload: bytes) -> ProtocolError:
        fields, detail = unpack("error", payload, exact=False)
        status = STATUS_NAMES.get(fields["status"], str(fields["status"]))
        return ProtocolError(
            f"device refused {request}: {status} ({text(detail)})",
            hint="the host and firmware disagree about the protocol or the model; rebuild and "
                 "flash the firmware with this hil version",
        )

    def _timeout_error(self, expected: str, timeout: float) -> DeviceError:
        tail = self._tail.hex(" ") if self._tail else "nothing"
        dropped = f"; {self._decoder.dropped} damaged frame(s) dropped " \
                  f"({self._decoder.last_error})" if self._decoder.dropped else ""
        return DeviceError(
            f"timed out after {timeout:g} s waiting for {expected}; "
            f"last bytes received: {tail}{dropped}",
            hint=self._log_hint(),
        )

    def _log_hint(self) -> str:
        hint = "check the device is running hil firmware and the port/baud rate are right"
        if self.log_path:
            hint += f"; device log: {self.log_path}"
        return hint
