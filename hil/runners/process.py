"""What the emulator runners share: one child process, its log, its end.

The child's stdout and stderr go to the runner's log file; errors quote the
tail of what it wrote since it started. Every live child is stopped at
interpreter exit, so a crashed test never leaves an emulator behind.
"""

from __future__ import annotations

import atexit
import subprocess
import weakref
from pathlib import Path
from typing import Sequence

from hil.errors import ConfigError, DeviceError
from hil.runners.base import Runner

STOP_TIMEOUT = 5.0
TAIL_LINES = 15

_live: "weakref.WeakSet[ProcessRunner]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for runner in list(_live):
        runner.stop()


def check_elf(elf: Path) -> None:
    """Emulators report a bad image late or not at all; catch it before starting one."""
    if not elf.is_file():
        raise ConfigError(f"firmware image {elf} does not exist", hint="build it first (hil build)")
    with open(elf, "rb") as f:
        header = f.read(20)
    # ELF magic, 32-bit, little-endian; e_machine 40 is ARM.
    if len(header) < 20 or header[:6] != b"\x7fELF\x01\x01" or header[18:20] != b"\x28\x00":
        raise ConfigError(f"{elf} is not a 32-bit Arm ELF image", hint="pass the firmware.elf from hil build")


class ProcessRunner(Runner):
    """A runner whose device is a child process (an emulator)."""

    program = "the emulator"   # for messages: "QEMU", "Renode"

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
            self.process = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=log, **popen_args)
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

    def describe(self) -> str:
        """What ran, for error messages (the machine or platform)."""
        return ""

    def check(self) -> None:
        """DeviceError if the child ended when we did not ask it to."""
        if self.process is None or self._stopping or self.alive():
            return
        what = f" ({self.describe()})" if self.describe() else ""
        raise DeviceError(
            f"{self.program} exited with status {self.process.returncode}{what}; "
            f"log: {self._log_path}",
            hint=f"{self.program} said:\n{self.log_tail()}")

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
