"""From a network and a board to a connected device.

``prepare_image`` generates the model tables and builds the firmware;
``open_device`` puts the image on the board through the board's runner,
connects to its UART and handshakes. Nothing here renders or decides
verdicts.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from hil.boards import Board
from hil.counts import CountSource, count_source
from hil.firmware.build import FirmwareImage, build_firmware
from hil.firmware.codegen import generate_model_sources
from hil.model import Network
from hil.model.hashing import model_hash
from hil.protocol.link import Link
from hil.runners import Runner, runner_for
from hil.session import DeviceInfo, DeviceSession

Say = Callable[[str], None]
EMULATED_KINDS = frozenset({"qemu", "renode"})


def default_build_root() -> Path:
    """Where images and logs go: $HIL_BUILD_DIR, else ./build/hil."""
    return Path(os.environ.get("HIL_BUILD_DIR", Path("build") / "hil"))


def image_dir(build_root: Path, board: Board, network: Network,
              defines: dict[str, str] | None = None, cmsis_nn: Path | None = None) -> Path:
    """One directory per (board, model, build options), so images never overwrite each other."""
    key = model_hash(network).hex()[:12]
    extra = {"defines": defines or {}, "cmsis_nn": str(cmsis_nn) if cmsis_nn else None}
    if defines or cmsis_nn:
        key += "-" + hashlib.sha256(json.dumps(extra, sort_keys=True).encode()).hexdigest()[:8]
    return build_root / board.id / f"{network.name}-{key}"


def prepare_image(board: Board, network: Network, *, build_root: Path | None = None,
                  cmsis_nn: Path | None = None, defines: dict[str, str] | None = None,
                  say: Say | None = None) -> FirmwareImage:
    """Generate ``network``'s tables and build the firmware for ``board`` (cached)."""
    out = image_dir(build_root or default_build_root(), board, network, defines, cmsis_nn)
    generated = out / "generated"
    generate_model_sources(network, generated)
    return build_firmware(board, generated, out, cmsis_nn=cmsis_nn, defines=defines,
                          progress=say)


@dataclass
class Device:
    """A running, handshaken device."""

    board: Board
    runner: Runner
    session: DeviceSession
    info: DeviceInfo
    counts: CountSource


def device_count_source(board: Board, info: DeviceInfo) -> CountSource:
    emulated = board.kind in EMULATED_KINDS
    shift = board.qemu.icount_shift if board.qemu is not None else None
    return count_source(info.cycle_source, emulated=emulated, icount_shift=shift)


@contextmanager
def open_device(board: Board, image: FirmwareImage, *, log_dir: Path,
                port: str | None = None, timeout: float = 5.0,
                runner_options: dict | None = None) -> Iterator[Device]:
    """Start ``image`` on ``board`` and yield the connected device; always cleans up."""
    with ExitStack() as stack:
        runner = stack.enter_context(runner_for(board, image.elf, log_dir, **(runner_options or {})))
        url = port or runner.url
        assert url is not None
        link = stack.enter_context(
            Link.open(url, baudrate=board.baud, timeout=timeout, log_path=runner.log_path))
        session = DeviceSession(link)
        info = session.hello()
        yield Device(board, runner, session, info, device_count_source(board, info))
