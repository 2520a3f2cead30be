"""A loopback port for the transport wrappers' tests: what is written is read back,
without pyserial's bounded queue; it records each write's size."""

from __future__ import annotations


class MemPort:
    def __init__(self) -> None:
        self.buf = bytearray()
        self.timeout: float | None = 0
        self.writes: list[int] = []
        self.closed = False

    def write(self, data: bytes) -> int:
        if self.closed:
            raise OSError("closed")
        self.writes.append(len(data))
        self.buf += data
        return len(data)

    def read(self, n: int = 1) -> bytes:
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def close(self) -> None:
        self.closed = True
