"""Run an image in Renode; the UART is a TCP server socket Renode opens.

Renode is driven by a generated ``.resc`` script with documented monitor
commands only: ``mach create``, ``machine LoadPlatformDescription``,
``sysbus LoadELF``, ``emulation CreateServerSocketTerminal`` (with
emitConfig false, so no telnet negotiation bytes reach the protocol) and
``connector Connect``, then ``start``. Renode binds the UART port itself,
so the runner picks a free port and waits until Renode accepts on it.

Renode is not installed on the machines hil is developed on: this runner
follows Renode's documentation and is tested against a stand-in
executable (tests/fixtures/fake_renode.py) that speaks the same script.
The boot HELLO may go out before the host connects; the session asks for
HELLO itself, so nothing depends on it.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

from hil.config.boards import Board
from hil.errors import ConfigError, DeviceError
from hil.firmware.image import check_elf
from hil.runners.process import ProcessRunner

RENODE_ENV = "HIL_RENODE"  # path of the renode executable, else PATH
RENODE_BINARY = "renode"
INSTALL_HINT = (
    f"install Renode (https://renode.io: the .deb or the portable package) and put "
    f"`{RENODE_BINARY}` on PATH, or set {RENODE_ENV} to its path"
)
START_TIMEOUT = 60.0  # Renode (a .NET program) takes seconds to start
UART_TERMINAL = "hil_uart"


def free_port() -> int:
    """A port nobody listens on now. Renode binds it itself, so a race with
    another program is possible; start() then fails with a clear error."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quoted(path: Path) -> str:
    text = str(path)
    if '"' in text:
        raise ConfigError(
            f"path {text!r} contains a double quote, which Renode scripts cannot hold",
            hint="move the build directory to a plainer path",
        )
    return f'@"{text}"' if " " in text else f"@{text}"


class RenodeRunner(ProcessRunner):
    """renode for a board of kind "renode"."""

    capabilities = frozenset()
    program = "Renode"

    def __init__(self, board: Board, elf: Path, log_dir: Path) -> None:
        if board.kind != "renode" or board.renode is None:
            raise ConfigError(
                f"board {board.id!r} is of kind {board.kind!r}, not a Renode board",
                hint="pick a renode-* board, or the runner for its kind",
            )
        super().__init__(Path(log_dir) / f"{board.id}.renode.log")
        self.board = board
        self.elf = Path(elf)
        self.log_dir = Path(log_dir)
        self.url = None

    def describe(self) -> str:
        return f"platform {self.board.renode.platform}"

    def script(self, uart_port: int) -> str:
        """The .resc that builds the machine, loads the image and opens the UART."""
        spec = self.board.renode
        assert spec is not None
        return "\n".join(
            [
                f"# hil: {self.board.id}",
                'mach create "hil"',
                f"machine LoadPlatformDescription @{spec.platform}",
                f"sysbus LoadELF {_quoted(self.elf.resolve())}",
                # The vector table sits at the start of flash (the linker script puts it there).
                f"{spec.cpu} VectorTableOffset {self.board.flash.origin:#010x}",
                f'emulation CreateServerSocketTerminal {uart_port} "{UART_TERMINAL}" false',
                f"connector Connect {spec.uart} {UART_TERMINAL}",
                "start",
                "",
            ]
        )

    def command(self, script_path: Path) -> list[str]:
        # Headless, no colour codes in the log; the script runs at start-up.
        return [self._binary(), "--disable-xwt", "--plain", str(script_path)]

    def _binary(self) -> str:
        configured = os.environ.get(RENODE_ENV)
        if configured:
            if not os.access(configured, os.X_OK):
                raise DeviceError(
                    f"{RENODE_ENV}={configured} is not an executable file", hint=INSTALL_HINT
                )
            return configured
        path = shutil.which(RENODE_BINARY)
        if path is None:
            raise DeviceError(f"{RENODE_BINARY} not found on PATH", hint=INSTALL_HINT)
        return path

    def start(self) -> str:
        if self.process is not None:
            raise DeviceError(
                "this Renode runner was already started", hint="use a new RenodeRunner per run"
            )
        check_elf(self.elf)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        script_path = self.log_dir / f"{self.board.id}.resc"
        script_path.write_text(self.script(port))
        self._launch(self.command(script_path), cwd=self.log_dir)
        self._wait_listening(port)
        self.url = f"socket://127.0.0.1:{port}"
        return self.url

    def _wait_listening(self, port: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive():
                self.check()
            try:
                # Renode's terminal takes a new client after this one leaves.
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise DeviceError(
            f"Renode did not open the UART socket on port {port} within {START_TIMEOUT:.0f} s; "
            f"log: {self._log_path}",
            hint=f"Renode said:\n{self.log_tail()}",
        )
