"""A scripted device on a TCP socket for link and session tests.

``FakeDevice(handler)`` listens on 127.0.0.1; for every whole frame the
host sends, ``handler(frame)`` returns the raw bytes to answer with (any
number of encoded frames, garbage, or nothing).
"""

from __future__ import annotations

import socket
import threading
from typing import Callable

from hil.protocol.frames import Frame, FrameDecoder

Handler = Callable[[Frame], bytes]


class FakeDevice:
    def __init__(self, handler: Handler, *, greeting: bytes = b"") -> None:
        self.handler = handler
        self.greeting = greeting
        self.received: list[Frame] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self.url = f"socket://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._conn: socket.socket | None = None

    def __enter__(self) -> "FakeDevice":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._listener.close()
        if self._conn is not None:  # unblocks recv() even if the host kept the link open
            try:
                self._conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        self._conn = conn
        with conn:
            if self.greeting:
                conn.sendall(self.greeting)
            decoder = FrameDecoder()
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                for frame in decoder.feed(data):
                    self.received.append(frame)
                    reply = self.handler(frame)
                    if reply:
                        conn.sendall(reply)
