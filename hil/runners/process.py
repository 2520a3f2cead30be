"""What the emulator runners share: one child process, its log, its end.

The child's stdout and stderr go to the runner's log file; errors quote the
tail of what it wrote since it started. Every live child is stopped at
interpreter exit, so a crashed test never leaves an emulator behind.
"""

from __future__ import annotations

import atexit
import ctypes
import signal
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Sequence

from hil.errors import DeviceError, DeviceGone
from hil.runners.base import Runner

STOP_TIMEOUT = 5.0
TAIL_LINES = 15

_live: "weakref.WeakSet[ProcessRunner]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for runner in list(_live):
        runner.stop()


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _end_with_parent() -> None:
    """In the child before exec: SIGTERM it when hil's process ends (Linux prctl).

    Only an already-loaded libc call runs here, which is safe between fork and exec.
    """
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ProcessRunner(Runner):
    """A runner whose device is a child process (an emulator)."""

    program = "the emulator"  # for messages: "QEMU", "Renode"

    def __init__(self, log_path: Path) -> None:
        self.process: subprocess.Popen | None = None
        self._log_path = log_path
        self._log_start = 0
        self._stopping = False

    @property
    def log_path(self) -> Path:
        return self._log_path

    def _launch(self, cmd: Sequence[str], **popen_args) -> None:
        """Start ``cmd`` with its output appended to the log, after a header line."""
        self._stopping = False
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._log_path, "ab") as log:
            log.write(f"=== {' '.join(cmd)}\n".encode())
            log.flush()
            self._log_start = log.tell()
            # A process group of its own: Ctrl-C in the terminal reaches hil alone, which
            # reports what it has and then stops the child itself. The child is also told
            # to end when hil dies, so even a killed hil never leaves an emulator behind.
            self.process = subprocess.Popen(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                process_group=0,
                preexec_fn=_end_with_parent,
                **popen_args,
            )
        _live.add(self)

    def _log_bytes(self) -> bytes:
        try:
            with open(self._log_path, "rb") as log:
                log.seek(self._log_start)
                return log.read()
        except OSError:
            return b""

    def log_tail(self) -> str:
        lines = self._log_bytes().decode(errors="replace").strip().splitlines()
        return "\n".join(lines[-TAIL_LINES:]) or "(nothing)"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_status(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def wait_ended(self, grace: float) -> bool:
        """True once the child has ended, waiting up to ``grace`` seconds for it."""
        if self.process is None:
            return False
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            return False
        return True

    def status_text(self) -> str:
        """``exited with status 1`` or ``was killed by SIGKILL (status -9)``, for messages."""
        code = self.exit_status()
        if code is None:
            return "is still running"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"was killed by {name} (status {code})"
        return f"exited with status {code}"

    def gone_error(self) -> DeviceGone:
        """The error for a child that ended unasked: how it ended, what it said, its log."""
        what = f" ({self.describe()})" if self.describe() else ""
        return DeviceGone(
            f"the device is gone: {self.program}{what} {self.status_text()}; log: {self._log_path}",
            hint=f"{self.program}'s last output:\n{self.log_tail()}",
        )

    def describe(self) -> str:
        """What ran, for error messages (the machine or platform)."""
        return ""

    def check(self) -> None:
        """DeviceError if the child ended when we did not ask it to."""
        if self.process is None or self._stopping or self.alive():
            return
        what = f" ({self.describe()})" if self.describe() else ""
        raise DeviceError(
            f"{self.program}{what} {self.status_text()}; log: {self._log_path}",
            hint=f"{self.program} said:\n{self.log_tail()}",
        )

    def stop(self) -> None:
        self._stopping = True
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        _live.discard(self)

    def __del__(self) -> None:
        # Last resort for runners dropped without stop(); never raises.
        process = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            process.kill()
