"""Run an image on QEMU's mps2/mps3 machines; the UART is a TCP socket on localhost.

The host binds both sockets (UART and QMP) to port 0 and hands QEMU the
listening file descriptors, so there is no port race. The UART chardev
waits for the host to connect before the guest runs, so no output is lost.
``-icount`` makes the port's timer counts proportional to executed
instructions and repeatable (see hil.config.boards for the conversion).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Sequence

from hil.config.boards import Board, icount_instructions_per_tick
from hil.errors import ConfigError, DeviceError
from hil.firmware.image import check_elf
from hil.runners.base import EXIT_STATUS, ICOUNT, RESET
from hil.runners.process import ProcessRunner

QEMU_BINARY = "qemu-system-arm"
INSTALL_HINT = "install QEMU: sudo apt-get install qemu-system-arm"
READY_MARK = b"waiting for connection"  # QEMU's note once the UART listens
START_TIMEOUT = 10.0
QMP_TIMEOUT = 3.0


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    sock.set_inheritable(True)
    return sock


class QemuRunner(ProcessRunner):
    """qemu-system-arm for a board of kind "qemu"."""

    capabilities = frozenset({RESET, ICOUNT, EXIT_STATUS})
    program = "QEMU"

    def __init__(
        self,
        board: Board,
        elf: Path,
        log_dir: Path,
        icount_shift: int | None = None,
        *,
        extra_args: Sequence[str] = (),
    ) -> None:
        if board.kind != "qemu" or board.qemu is None:
            raise ConfigError(
                f"board {board.id!r} is of kind {board.kind!r}, not an emulated board",
                hint="pick a qemu-* board, or the runner for its kind",
            )
        super().__init__(Path(log_dir) / f"{board.id}.qemu.log")
        self.board = board
        self.elf = Path(elf)
        self.log_dir = Path(log_dir)
        self.icount_shift = board.qemu.icount_shift if icount_shift is None else icount_shift
        if not 0 <= self.icount_shift <= 10:
            raise ConfigError(
                f"icount shift {self.icount_shift} is out of range", hint="QEMU accepts 0..10"
            )
        self.extra_args = tuple(extra_args)
        self.url = None
        self._qmp_port: int | None = None
        self._qmp: socket.socket | None = None

    def describe(self) -> str:
        return f"machine {self.board.qemu.machine}"

    def command(self, serial_fd: int, qmp_fd: int) -> list[str]:
        assert self.board.qemu is not None
        return [
            self._binary(),
            "-M",
            self.board.qemu.machine,
            "-kernel",
            str(self.elf),
            "-display",
            "none",
            "-monitor",
            "none",
            "-no-reboot",
            # sleep=on: a guest idle in WFI (waiting for the host) leaves the
            # host CPU free; counts stay exact because only compute is timed.
            "-icount",
            f"shift={self.icount_shift},align=off,sleep=on",
            "-chardev",
            f"socket,id=ser0,fd={serial_fd},server=on,wait=on,nodelay=on",
            "-serial",
            "chardev:ser0",
            "-chardev",
            f"socket,id=qmp,fd={qmp_fd},server=on,wait=off",
            "-mon",
            "chardev=qmp,mode=control",
            *self.extra_args,
        ]

    def _binary(self) -> str:
        path = shutil.which(QEMU_BINARY)
        if path is None:
            raise DeviceError(f"{QEMU_BINARY} not found on PATH", hint=INSTALL_HINT)
        return path

    def start(self) -> str:
        if self.process is not None:
            raise DeviceError(
                "this QEMU runner was already started", hint="use a new QemuRunner per run"
            )
        check_elf(self.elf)
        serial_sock, qmp_sock = _listener(), _listener()
        try:
            cmd = self.command(serial_sock.fileno(), qmp_sock.fileno())
            self._launch(cmd, pass_fds=(serial_sock.fileno(), qmp_sock.fileno()))
            port = serial_sock.getsockname()[1]
            self._qmp_port = qmp_sock.getsockname()[1]
        finally:
            # QEMU holds its own copies; ours would keep the ports open after it dies.
            serial_sock.close()
            qmp_sock.close()
        self._wait_listening()
        self.url = f"socket://127.0.0.1:{port}"
        return self.url

    def _wait_listening(self) -> None:
        """Return once QEMU says the UART listens; DeviceError if it exits first."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if READY_MARK in self._log_bytes():
                return
            if not self.alive():
                self.check()
            time.sleep(0.005)
        self.stop()
        raise DeviceError(
            f"QEMU did not open its UART within {START_TIMEOUT:.0f} s; log: {self._log_path}",
            hint=f"QEMU said:\n{self.log_tail()}",
        )

    def instructions(self, ticks: int) -> float:
        """Executed instructions for a timer count from this run (uses its icount shift)."""
        assert self.board.qemu is not None
        return ticks * icount_instructions_per_tick(self.icount_shift, self.board.qemu.timer_hz)

    def wait(self, timeout: float) -> int | None:
        """Wait for QEMU to end by itself (firmware reset with -no-reboot); its status or None."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def reset(self) -> None:
        """Restart the firmware from its reset vector; the UART connection stays up."""
        self.check()
        # -no-reboot would turn this reset into an exit too; QEMU decides when the
        # request is made, so switching the action around it is race-free.
        self._qmp_command("set-action", {"reboot": "reset"})
        self._qmp_command("system_reset")
        self._qmp_command("set-action", {"reboot": "shutdown"})

    def _qmp_command(self, command: str, arguments: dict | None = None) -> dict:
        if self._qmp is None:
            if self._qmp_port is None:
                raise DeviceError("QEMU is not running", hint="call start() first")
            try:
                self._qmp = socket.create_connection(
                    ("127.0.0.1", self._qmp_port), timeout=QMP_TIMEOUT
                )
                self._qmp_file = self._qmp.makefile("rb")
                self._qmp_read()  # greeting
                self._qmp_send("qmp_capabilities")
            except OSError as exc:
                self._qmp = None
                raise DeviceError(
                    f"cannot reach QEMU's QMP socket: {exc}; log: {self._log_path}"
                ) from exc
        return self._qmp_send(command, arguments)

    def _qmp_send(self, command: str, arguments: dict | None = None) -> dict:
        assert self._qmp is not None
        request = {"execute": command, **({"arguments": arguments} if arguments else {})}
        try:
            self._qmp.sendall(json.dumps(request).encode() + b"\n")
            while True:
                reply = self._qmp_read()
                if "return" in reply:
                    return reply
                if "error" in reply:
                    raise DeviceError(f"QEMU refused {command}: {reply['error'].get('desc')}")
        except OSError as exc:
            raise DeviceError(f"QMP {command} failed: {exc}; log: {self._log_path}") from exc

    def _qmp_read(self) -> dict:
        line = self._qmp_file.readline()
        if not line:
            raise DeviceError(
                f"QEMU closed its QMP socket; log: {self._log_path}", hint=self.log_tail()
            )
        message = json.loads(line)
        return message if "event" not in message else self._qmp_read()

    def stop(self) -> None:
        # SIGTERM, not QMP quit: it also works while QEMU still waits for the UART client.
        super().stop()
        if self._qmp is not None:
            self._qmp_file.close()
            self._qmp.close()
            self._qmp = None
