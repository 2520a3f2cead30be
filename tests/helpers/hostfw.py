"""Build the firmware for the host (firmware/port/host) and run it as a device.

    exe = build_host_firmware(network, tmp_dir)
    with HostDevice(exe) as dev:
        link = Link.open(dev.url)      # socket://127.0.0.1:PORT, as for QEMU

The test binds a listening socket on port 0 and hands it to the firmware
by file descriptor, so there is no port race and no output is lost.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"
SANITIZE = (
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=undefined",
    "-fno-omit-frame-pointer",
)
WARNINGS = ("-Wall", "-Wextra", "-Werror")


def firmware_sources() -> list[Path]:
    """src + nn + the host port's sources, as firmware/port/host/port.toml names them."""
    from hil.firmware.ports import load_port

    host = load_port("host", FIRMWARE)
    if host.kind != "host":
        raise RuntimeError(f"{host.directory}/port.toml: kind is {host.kind!r}, expected 'host'")
    return (
        sorted((FIRMWARE / "src").glob("*.c"))
        + sorted((FIRMWARE / "nn" / "src").glob("*.c"))
        + host.source_files()
    )


def build_host_firmware(
    network, out_dir: Path, *, sanitize: bool = False, defines: Sequence[str] = (), name: str = "fw"
) -> Path:
    """Compile src + nn + the model (exported module and glue) + the host port."""
    from hil.firmware.codegen import generate_model_sources

    out_dir = Path(out_dir)
    # The module's kernel copies equal firmware/nn's files, which are compiled already.
    model = generate_model_sources(network, out_dir / f"{name}_model")
    exe = out_dir / name
    cmd = [
        "gcc",
        "-std=c11",
        "-O1",
        "-g",
        *WARNINGS,
        f"-I{FIRMWARE / 'include'}",
        f"-I{FIRMWARE / 'nn' / 'include'}",
        *(f"-I{d}" for d in model.include_dirs),
        '-DHIL_BUILD_ID="host-test"',
        '-DHIL_BOARD_ID="host"',
        '-DHIL_CORE="host"',
        *(f"-D{d}" for d in defines),
        *(SANITIZE if sanitize else ()),
        *map(str, firmware_sources()),
        *map(str, model.sources),
        "-lm",
        "-o",
        str(exe),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"host firmware build failed:\n{result.stderr}")
    return exe


class HostDevice:
    """A running host-built firmware; ``url`` is its UART as a pyserial URL."""

    def __init__(self, exe: Path, *, log_path: Path | None = None, reconnect: bool = False) -> None:
        self.exe = exe
        self.reconnect = reconnect  # survive the host hanging up (HIL_HOST_RECONNECT)
        self.log_path = log_path or exe.with_suffix(".log")
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> "HostDevice":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        env = dict(
            os.environ,
            HIL_HOST_LISTEN_FD=str(listener.fileno()),
            ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
        )
        if self.reconnect:
            env["HIL_HOST_RECONNECT"] = "1"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(self.exe)],
                env=env,
                pass_fds=[listener.fileno()],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        listener.close()
        self.url = f"socket://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self, wait: float = 5) -> int | None:
        """End the process: it exits by itself once the link closes; a device
        halted after a fault is killed after ``wait`` seconds."""
        if self.proc is None:
            return None
        if self.reconnect:
            wait = 0  # it waits for the next host forever
        try:
            return self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
