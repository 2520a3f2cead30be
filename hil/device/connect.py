"""From a target to connected, image-checked devices: the one setup path.

``connect(target)`` is what every command and the pytest plugin call: it
builds the image (``build``), puts it on the board through the board's
runner, connects to its UART, handshakes and checks that the device runs
the target's network. ``prepare_image`` and ``open_device`` are its two
halves. Nothing here renders or decides verdicts.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from hil.config.boards import Board
from hil.device.counts import CountSource, count_source
from hil.device.session import DeviceInfo, DeviceSession, layer_timeouts
from hil.device.target import Target
from hil.errors import DeviceError, DeviceGone, HilError
from hil.export.files import Export
from hil.firmware.build import FirmwareImage, backend_name, build_firmware
from hil.firmware.codegen import generate_model_sources
from hil.firmware.image import symbolized
from hil.firmware.watchdog import watchdog_define
from hil.model import Network
from hil.model.hashing import model_hash
from hil.model.s8 import S8Network
from hil.protocol import generated as proto
from hil.protocol.link import Link
from hil.runners import RESET, Runner, runner_for
from hil.runners.attached import AttachedRunner
from hil.runners.process import ProcessRunner
from hil.transport.faults import LinkFaults
from hil.transport.throttle import BITS_PER_BYTE

Say = Callable[[str], None]


def default_build_root() -> Path:
    """Where images and logs go: $HIL_BUILD_DIR, else ./build/hil."""
    return Path(os.environ.get("HIL_BUILD_DIR", Path("build") / "hil"))


def image_dir(
    build_root: Path,
    board: Board,
    network: Network | S8Network,
    defines: dict[str, str] | None = None,
    cmsis_nn: Path | None = None,
    export: Export | None = None,
    rounding: str = "double",
) -> Path:
    """One directory per (board, model, build options), so images never overwrite each other."""
    key = model_hash(network).hex()[:12]
    extra = {
        "defines": defines or {},
        "cmsis_nn": str(cmsis_nn) if cmsis_nn else None,
        "export": export.hash if export else None,
    }
    single = isinstance(network, S8Network) and rounding != "double"
    if single:
        extra["rounding"] = rounding
    if defines or cmsis_nn or export or single:
        key += "-" + hashlib.sha256(json.dumps(extra, sort_keys=True).encode()).hexdigest()[:8]
    return build_root / board.id / f"{network.name}-{key}"


def prepare_image(
    board: Board,
    network: Network | S8Network,
    *,
    build_root: Path | None = None,
    cmsis_nn: Path | None = None,
    defines: dict[str, str] | None = None,
    say: Say | None = None,
    export: Export | None = None,
    rounding: str = "double",
) -> FirmwareImage:
    """Export ``network`` as a C module and build the firmware for ``board`` from it (cached).

    An s8 network builds an s8 image (its kernels, ``rounding``)."""
    root = build_root or default_build_root()
    out = image_dir(root, board, network, defines, cmsis_nn, export, rounding)
    model = generate_model_sources(
        network, out / "generated", backend=backend_name(cmsis_nn), export=export
    )
    # Derived from (board, model), so it needs no place in the image directory's key.
    defines = {
        **watchdog_define(board, [layer.macs for layer in network.layers]),
        **(defines or {}),
    }
    family = network.family
    return build_firmware(
        board,
        model,
        out,
        cmsis_nn=cmsis_nn,
        defines=defines,
        progress=say,
        family=family,
        rounding=rounding,
    )


def kernel_image_dir(
    build_root: Path, board: Board, family: str, rounding: str, cmsis_nn: Path | None
) -> Path:
    """One directory per (board, family, rounding, kernel library) of a kernels-only image."""
    extra = {
        "family": family,
        "rounding": rounding,
        "cmsis_nn": str(cmsis_nn) if cmsis_nn else None,
    }
    key = hashlib.sha256(json.dumps(extra, sort_keys=True).encode()).hexdigest()[:8]
    return build_root / board.id / f"kernels-{family}-{rounding}-{key}"


def prepare_kernel_image(
    board: Board,
    family: str,
    *,
    build_root: Path | None = None,
    cmsis_nn: Path | None = None,
    rounding: str = "double",
    say: Say | None = None,
) -> FirmwareImage:
    """An image of ``family``'s kernels (s8: no network) for single-kernel runs (cached)."""
    out = kernel_image_dir(build_root or default_build_root(), board, family, rounding, cmsis_nn)
    return build_firmware(
        board,
        None,
        out,
        cmsis_nn=cmsis_nn,
        progress=say,
        family=family,
        rounding=rounding,
    )


@contextmanager
def connect_kernels(
    board: Board,
    family: str,
    *,
    build_root: Path,
    cmsis_nn: Path | None = None,
    rounding: str = "double",
    port: str | None = None,
    timeout: float = 10.0,
    attach: bool = False,
    say: Say | None = None,
) -> Iterator["Device"]:
    """A device running ``family``'s kernels-only image (hil conformance --family s8):
    built (cached), started, handshaken, its protocol, family, board and rounding checked."""
    image = prepare_kernel_image(
        board, family, build_root=build_root, cmsis_nn=cmsis_nn, rounding=rounding, say=say
    )
    fix = (
        f"flash the {family} image: hil conformance --random N --family {family} "
        f"--board {board.id} (without --attach)"
    )
    with (
        symbolized(image.elf),
        open_device(
            board, image, log_dir=build_root / "logs", port=port, timeout=timeout, attach=attach
        ) as dev,
    ):
        dev.image = image
        dev.session.check_kernel_image(family, board.id, fix)
        if family == "s8" and dev.info.rounding != rounding:
            raise DeviceError(
                f"device image uses {dev.info.rounding} rounding, not {rounding}", hint=fix
            )
        yield dev


@dataclass
class Device:
    """A running, handshaken device."""

    board: Board
    runner: Runner
    session: DeviceSession
    info: DeviceInfo
    counts: CountSource
    image: FirmwareImage | None = None
    name: str = "device0"  # the labgrid place, or deviceK by position

    @property
    def attached(self) -> bool:
        """True when hil flashed nothing: the device runs what it ran before."""
        return isinstance(self.runner, AttachedRunner)


def device_count_source(board: Board, info: DeviceInfo) -> CountSource:
    emulated = board.emulated
    if board.qemu is None:
        return count_source(info.cycle_source, emulated=emulated, icount_shift=None)
    return count_source(
        info.cycle_source,
        emulated=emulated,
        icount_shift=board.qemu.icount_shift,
        timer_hz=board.qemu.timer_hz,
    )


def alive_check(runner: Runner) -> Callable[[float], None]:
    """Raises DeviceGone, saying how the device ended, once it has (see Link's AliveCheck)."""

    def check(grace: float = 0.0) -> None:
        if runner.alive() and not (grace and _ended_within(runner, grace)):
            return
        if isinstance(runner, ProcessRunner):
            raise runner.gone_error()
        raise DeviceGone(
            f"the device is gone: {type(runner).__name__} reports it stopped "
            f"running; log: {runner.log_path}",
            hint="check the device log",
        )

    return check


def _ended_within(runner: Runner, grace: float) -> bool:
    if isinstance(runner, ProcessRunner):
        return runner.wait_ended(grace)
    return False


# Seconds QEMU's emulated UART takes to take in one byte, with room to spare:
# it measured about 70 us (a 3,072-byte input in 212 ms, hil bench device).
EMULATOR_BYTE_S = 100e-6


def reply_wait(baud: int | None, timeout: float) -> float:
    """How long to wait for a reply before resending: the largest frame there and back at
    ``baud`` (None: an unthrottled emulator link) plus slack for the device to answer."""
    wire = 2 * proto.MAX_ENCODED * BITS_PER_BYTE / baud if baud else 0.0
    return min(timeout, 0.1 + wire)


@contextmanager
def open_device(
    board: Board,
    image: FirmwareImage,
    *,
    log_dir: Path,
    port: str | None = None,
    timeout: float = 5.0,
    runner_options: dict | None = None,
    link_faults: LinkFaults | None = None,
    layer_macs: list[int] | None = None,
    link_wrap: Callable[[object], object] | None = None,
    attach: bool = False,
    name: str = "device0",
) -> Iterator[Device]:
    """Start ``image`` on ``board`` and yield the connected device; always cleans up.

    ``attach`` talks to the device at ``port`` as it is, flashing nothing.

    ``link_faults`` puts the fault injector/throttle between host and device;
    ``layer_macs`` scales the wait for each layer's output with its work;
    ``link_wrap`` wraps the port outermost (e.g. hil.transport.wire_tap.WireTap.wrap).
    """
    with ExitStack() as stack:
        runner = stack.enter_context(
            AttachedRunner(board, image.elf, log_dir, port=port)
            if attach
            else runner_for(board, image.elf, log_dir, **(runner_options or {}))
        )
        url = port or runner.url
        assert url is not None
        baud = (link_faults.spec.baud if link_faults is not None else 0) or (
            None if board.emulated and port is None else board.baud
        )
        base = reply_wait(baud, timeout)
        link = stack.enter_context(
            Link.open(
                url,
                baudrate=board.baud,
                timeout=timeout,
                log_path=runner.log_path,
                wrap=_compose(link_faults.wrap if link_faults is not None else None, link_wrap),
                resend_after=base,
                alive=alive_check(runner),
                byte_s=max(
                    BITS_PER_BYTE / baud if baud else 0.0,
                    EMULATOR_BYTE_S if board.emulated else 0.0,
                ),
            )
        )
        session = DeviceSession(
            link,
            reset=runner.reset if RESET in runner.capabilities else None,
            layer_timeouts=layer_timeouts(layer_macs, base) if layer_macs else None,
        )
        info = session.hello()
        yield Device(board, runner, session, info, device_count_source(board, info), name=name)


def _compose(inner, outer):
    if inner is None or outer is None:
        return inner or outer
    return lambda port: outer(inner(port))


def build(target: Target, *, say: Say | None = None) -> FirmwareImage:
    """The target's firmware image, built (or taken from the build cache)."""
    return prepare_image(
        target.board,
        target.network,
        build_root=target.build_root,
        cmsis_nn=target.cmsis_nn,
        defines=target.build_defines() or None,
        say=say,
        export=target.export,
        rounding=target.rounding,
    )


@contextmanager
def connect(
    target: Target,
    *,
    image: FirmwareImage | None = None,
    devices: int = 1,
    say: Say | None = None,
    flash_progress: Callable[[float], None] | None = None,
    link_wrap: Callable[[object], object] | None = None,
) -> Iterator[list[Device]]:
    """``devices`` devices running ``target``'s network, handshaken and image-checked.

    Builds the image unless ``image`` is given. Device faults are reported with
    function names from the image's symbols while the devices are open; every
    device is shut down on the way out, whatever happened.
    """
    image = image or build(target, say=say)
    with ExitStack() as stack:
        stack.enter_context(symbolized(image.elf))
        chosen = seats(target, devices, flash_progress, say)
        opened = []
        for seat in chosen:
            with _naming(seat if target.benches else None):
                opened.append(
                    stack.enter_context(
                        open_device(
                            target.board,
                            image,
                            log_dir=seat.log_dir,
                            port=seat.port,
                            timeout=target.timeout,
                            runner_options=seat.runner_options,
                            link_faults=target.link_faults,
                            layer_macs=target.layer_macs,
                            link_wrap=link_wrap,
                            attach=seat.attach,
                            name=seat.name,
                        )
                    )
                )
        for dev, seat in zip(opened, chosen):
            with _naming(seat if target.benches else None):
                s8 = target.family == "s8"
                dev.session.check_image(
                    model_hash(target.network),
                    target.board.id,
                    model=target.model,
                    variant=target.board.variant,
                    family=target.family,
                    rounding=target.rounding if s8 else None,
                )
            dev.image = image
        yield opened


@contextmanager
def _naming(seat: "Seat | None") -> Iterator[None]:
    """A device error on one of several places says which place."""
    try:
        yield
    except HilError as exc:
        if seat is not None and not exc.message.startswith(f"place {seat.name}"):
            exc.message = f"place {seat.name}: {exc.message}"
        raise


@dataclass(frozen=True)
class Seat:
    """Where one of a target's devices is and how it is reached."""

    name: str
    log_dir: Path
    port: str | None
    runner_options: dict
    attach: bool


def seats(
    target: Target,
    devices: int = 1,
    flash_progress: Callable[[float], None] | None = None,
    say: Say | None = None,
) -> list[Seat]:
    """One seat per acquired place, else ``devices`` seats on the target's own wiring."""
    if target.benches:
        return [_bench_seat(target, bench, flash_progress, say) for bench in target.benches]
    return [
        Seat(
            f"device{k}",
            target.log_dir / f"device{k}" if devices > 1 else target.log_dir,
            target.port,
            target.runner_options(flash_progress),
            target.attach,
        )
        for k in range(devices)
    ]


def _bench_seat(target: Target, bench, flash_progress, say: Say | None) -> Seat:
    log_dir = target.log_dir / bench.place
    flash = not target.attach and bench.flashable and target.board.kind == "pyocd"
    if not flash:
        if not target.attach and say is not None:
            why = "has no pyocd service" if target.board.kind == "pyocd" else "is emulated"
            say(f"place {bench.place} {why}: attaching to the image it runs")
        return Seat(bench.place, log_dir, bench.port, {}, True)
    options = {**target.runner_options(flash_progress), "probe": bench.probe, "port": bench.port}
    return Seat(bench.place, log_dir, bench.port, options, False)
