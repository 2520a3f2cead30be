"""One device: the handshake, the image check and the link's recovery.

DeviceSession speaks the protocol of hil/protocol over a Link; it knows
nothing of how the device was started (runners) or what is right (compare).
Inference (hil/device/inference.py) and single-kernel runs
(hil/device/kernel_runs.py) are mixed in from their own modules.

Recovery: a vector's run is repeated until every layer's result has arrived
in frames that passed their checks (results from different attempts of the
same input are merged: the device is deterministic); a timeout, a cut or a
device reset makes the session re-handshake first (reopen the link, then
reset the device if it stays silent) and resume at the same vector. Each
vector has a retry budget; past it, DeviceError says what kept failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from hil.device.dump import PROTOCOL_MODES as DUMP_MODES
from hil.device.inference import TERMINAL_ERRORS, Inference, LayerResult  # noqa: F401
from hil.device.kernel_runs import KernelResult, KernelRuns  # noqa: F401
from hil.errors import (
    DeviceError,
    ImageChanged,  # noqa: F401
    KernelRefused,
    ProtocolError,
    WatchdogReset,
)
from hil.firmware.watchdog import WORK_MARGIN  # noqa: F401  (the host waits share it)
from hil.protocol import generated as g
from hil.protocol.fault import WATCHDOG_HINT, DeviceFault, FaultInfo  # noqa: F401  (re-exported)
from hil.protocol.link import Link
from hil.protocol.messages import size, text, unpack

__all__ = [
    "DeviceSession",
    "DeviceInfo",
    "LayerResult",
    "KernelResult",
    "DeviceFault",
    "FaultInfo",
    "DUMP_MODES",
    "SessionStats",
    "ImageChanged",
    "KernelRefused",
    "layer_timeouts",
]

_BACKENDS = {1: "portable", 2: "cmsis-nn"}
_VARIANTS = {v: k.lower() for k, v in g.ENUMS["variant"].items()}
# 0: the field was reserved (zero) before families, when every image was q7.
_FAMILIES = {0: "q7", **{v: k.lower() for k, v in g.ENUMS["family"].items()}}
_ROUNDINGS = {v: k.lower() for k, v in g.ENUMS["rounding"].items()}
_CYCLE_SOURCES = {v: k.lower() for k, v in g.ENUMS["cycle_source"].items()}
_RESET_CAUSES = {v: k.lower() for k, v in g.ENUMS["reset_cause"].items()}
DEFAULT_RUN_TIMEOUT = 30.0
DEFAULT_VECTOR_RETRIES = 5
MIN_CHUNK = 128  # smallest payload the adaptive chunking goes down to
SECONDS_PER_MAC = 2e-7  # pessimistic: QEMU's slowest core on a loaded CI runner


def layer_timeouts(
    macs: Sequence[int], base: float, *, seconds_per_mac: float = SECONDS_PER_MAC
) -> list[float]:
    """Seconds to wait for each layer's first frame: ``base`` plus its expected work."""
    return [base + WORK_MARGIN * m * seconds_per_mac for m in macs]


@dataclass
class SessionStats:
    reruns: int = 0  # vector runs repeated because output frames were lost or damaged
    resyncs: int = 0  # re-handshakes after a timeout, a cut or a device reset
    resets: int = 0  # device resets the host asked for (device silent after a resync)
    failures: list[str] = field(default_factory=list)  # last few causes, for the give-up error

    def note(self, cause: str) -> None:
        self.failures = (self.failures + [cause])[-3:]

    def causes(self) -> str:
        """The last causes, a repeated one once with its count."""
        seen: dict[str, int] = {}
        for cause in self.failures:
            seen[cause] = seen.get(cause, 0) + 1
        return " | ".join(c if n == 1 else f"{c} (x{n})" for c, n in seen.items())


@dataclass(frozen=True)
class DeviceInfo:
    """What the image on the device says about itself (the HELLO frame)."""

    protocol_version: int
    protocol_hash: int
    build_id: str
    model_hash: bytes  # first 8 bytes of the host's model hash
    model_name: str
    board_id: str
    core: str
    backend: str  # "portable" or "cmsis-nn"
    variant: str  # reference variant: "dsp" or "plain"
    cycle_source: str  # "dwt", "systick", "timer" or "host"
    cycle_hz: int
    num_layers: int
    input_size: int
    max_payload: int
    kernel_arena_bytes: int
    reset_cause: str = "unknown"  # why it last booted: "watchdog", "software", "pin", ...
    export_hash: bytes = b""  # first 8 bytes of the hash of the exported module it runs
    family: str = "q7"  # the kernel family the image holds: "q7" or "s8"
    rounding: str = "none"  # s8 requantisation: "double" or "single" ("none" for q7)

    @property
    def reference_variant(self) -> str:
        """The host reference this image's outputs equal: its kernel path (q7) or its
        rounding (s8, whose kernels give the same bytes on every core)."""
        return self.rounding if self.family == "s8" else self.variant

    @classmethod
    def from_payload(cls, payload: bytes) -> "DeviceInfo":
        f, _ = unpack("hello", payload)
        return cls(
            protocol_version=f["protocol_version"],
            protocol_hash=f["protocol_hash"],
            build_id=text(f["build_id"]),
            model_hash=bytes(f["model_hash"]),
            model_name=text(f["model_name"]),
            board_id=text(f["board_id"]),
            core=text(f["core"]),
            backend=_BACKENDS.get(f["backend"], f"unknown({f['backend']})"),
            variant=_VARIANTS.get(f["variant"], f"unknown({f['variant']})"),
            cycle_source=_CYCLE_SOURCES.get(f["cycle_source"], f"unknown({f['cycle_source']})"),
            cycle_hz=f["cycle_hz"],
            num_layers=f["num_layers"],
            input_size=f["input_size"],
            max_payload=f["max_payload"],
            kernel_arena_bytes=f["kernel_arena_bytes"],
            reset_cause=_RESET_CAUSES.get(f["reset_cause"], f"unknown({f['reset_cause']})"),
            export_hash=bytes(f["export_hash"]),
            family=_FAMILIES.get(f["family"], f"unknown({f['family']})"),
            rounding=_ROUNDINGS.get(f["rounding"], f"unknown({f['rounding']})"),
        )


def check_protocol(info: DeviceInfo, fix: str) -> None:
    """Refuse an image that speaks another protocol than this hil."""
    if (info.protocol_version, info.protocol_hash) != (g.PROTOCOL_VERSION, g.PROTOCOL_HASH):
        raise DeviceError(
            f"device speaks protocol v{info.protocol_version} "
            f"(hash {info.protocol_hash:08x}), this hil speaks v{g.PROTOCOL_VERSION} "
            f"(hash {g.PROTOCOL_HASH:08x})",
            hint=fix,
        )


def check_family(info: DeviceInfo, family: str, fix: str) -> None:
    """Refuse an image of another kernel family than ``family``."""
    if info.family != family:
        raise DeviceError(
            f"device image holds the {info.family} kernel family, not {family}", hint=fix
        )


class DeviceSession(Inference, KernelRuns):
    """Talks to one device over ``link``. Call hello() (or check_image()) first.

    ``layer_timeouts`` (seconds per layer, see layer_timeouts()) bounds the
    wait for each layer's frames; without it every wait is ``run_timeout``.
    ``reset`` restarts the device when it stays silent after a resync.
    """

    def __init__(
        self,
        link: Link,
        *,
        run_timeout: float = DEFAULT_RUN_TIMEOUT,
        layer_timeouts: Sequence[float] | None = None,
        reset: Callable[[], None] | None = None,
        vector_retries: int = DEFAULT_VECTOR_RETRIES,
    ) -> None:
        self.link = link
        self.run_timeout = run_timeout
        self.layer_timeouts = list(layer_timeouts) if layer_timeouts is not None else None
        self.reset = reset
        self.vector_retries = vector_retries
        self.info: DeviceInfo | None = None
        # CRC-32 of an input sent ahead (infer's next_x) that the device will
        # hold once its current RUN is done; None when nothing is pending.
        self._preloaded: int | None = None
        # Sending ahead pays only on a clean link: on a noisy one a damaged
        # frame sent ahead costs a whole re-run, so it waits for a clean vector.
        self._link_clean = True
        # (seq of a RUN, its ticks per layer): what a SUMMARY run's counts are coded against.
        self._counts_base: tuple[int, tuple[int, ...]] | None = None
        self.stats = SessionStats()
        self._chunk: int | None = None  # current payload limit; shrinks on a noisy link

    # -- handshake --------------------------------------------------------------

    def hello(self) -> DeviceInfo:
        frame = self.link.request(g.MSG_HELLO_REQ, expect={g.MSG_HELLO})
        self.info = DeviceInfo.from_payload(frame.payload)
        return self.info

    def check_image(
        self,
        expected_model_hash: bytes,
        board_id: str,
        *,
        model: str | None = None,
        variant: str | None = None,
        build_id: str | None = None,
        family: str = "q7",
        rounding: str | None = None,
    ) -> DeviceInfo:
        """Refuse a device whose protocol, model, board (or variant/build) is not
        the expected one. ``model`` names the model in the hint."""
        info = self.info or self.hello()
        model = model or info.model_name or "MODEL"
        fix = f"rebuild and flash the image: hil flash --board {board_id} --model {model}"
        check_protocol(info, fix)
        check_family(info, family, fix)
        want = bytes(expected_model_hash)[: len(info.model_hash)]
        if info.model_hash != want:
            raise DeviceError(
                f"device runs model {info.model_name!r} ({info.model_hash.hex()}), "
                f"expected {model!r} ({want.hex()})",
                hint=fix,
            )
        if info.board_id != board_id:
            raise DeviceError(
                f"device image was built for board {info.board_id!r}, not {board_id!r}", hint=fix
            )
        if build_id is not None and info.build_id != build_id:
            raise DeviceError(
                f"device runs firmware build {info.build_id!r}, expected {build_id!r}", hint=fix
            )
        if variant is not None and info.variant != variant:
            raise DeviceError(
                f"device image uses the {info.variant} kernel path, expected {variant}", hint=fix
            )
        if rounding is not None and info.rounding != rounding:
            raise DeviceError(
                f"device image rounds {info.rounding}, expected {rounding} rounding",
                hint=f"{fix} --rounding {rounding}",
            )
        return info

    def check_kernel_image(self, family: str, board_id: str, fix: str) -> DeviceInfo:
        """Refuse a device whose protocol, family or board is not the expected one, for
        single-kernel runs (no network); ``fix`` is the hint."""
        info = self.info or self.hello()
        check_protocol(info, fix)
        check_family(info, family, fix)
        if info.board_id != board_id:
            raise DeviceError(
                f"device image was built for board {info.board_id!r}, not {board_id!r}", hint=fix
            )
        return info

    def _require_info(self) -> DeviceInfo:
        return self.info or self.hello()

    def _max_chunk(self, header: str) -> int:
        return min(self._require_info().max_payload, g.MAX_PAYLOAD) - size(header)

    def _chunk_bytes(self, header: str) -> int:
        full = self._max_chunk(header)
        return full if self._chunk is None else min(full, self._chunk)

    def link_stats(self) -> dict[str, int]:
        """Recovery counters of the link and the session together."""
        d = self.link.counters()
        d.update(reruns=self.stats.reruns, resyncs=self.stats.resyncs, resets=self.stats.resets)
        return d

    # -- recovery ---------------------------------------------------------------

    def resync(self) -> DeviceInfo:
        """Get back in step with the device: reopen a dead link, re-handshake, reset
        the device if it stays silent; ImageChanged if a different image answers."""
        self.stats.resyncs += 1
        self._preloaded = None  # a reset device has lost it
        self._counts_base = None
        if self.link.broken:
            self.link.reopen()
        self.link.flush_input()
        try:
            info = DeviceInfo.from_payload(
                self.link.request(g.MSG_HELLO_REQ, expect={g.MSG_HELLO}).payload
            )
        except TERMINAL_ERRORS:
            raise
        except DeviceError:
            if self.reset is None:
                raise
            self.stats.resets += 1
            self.reset()
            if self.link.broken:
                self.link.reopen()
            info = DeviceInfo.from_payload(
                self.link.request(g.MSG_HELLO_REQ, expect={g.MSG_HELLO}).payload
            )
        old = self.info
        if old is not None and info.reset_cause == "watchdog" != old.reset_cause:
            # Its boot HELLO was lost, but the device says why it rebooted.
            raise WatchdogReset(
                "the device's watchdog rebooted it: the firmware stopped making progress",
                hint=WATCHDOG_HINT,
            )
        if old is not None and _identity(old) != _identity(info):
            raise ImageChanged(
                f"after a resync the device runs {info.model_name!r} build {info.build_id!r} "
                f"on {info.board_id!r}, before it ran {old.model_name!r} build "
                f"{old.build_id!r} on {old.board_id!r}",
                hint="something else flashed the board mid-run; rerun with --resume",
            )
        self.info = info
        return info

    def _shrink_chunk(self, header: str) -> None:
        current = self._chunk_bytes(header)
        self._chunk = max(MIN_CHUNK, current // 2)

    def _grow_chunk(self, header: str) -> None:
        if self._chunk is not None:
            self._chunk = None if self._chunk * 2 >= self._max_chunk(header) else self._chunk * 2

    # -- inference --------------------------------------------------------------

    def _expect_ack(self, msg: int, payload: bytes, *, flags: int = 0) -> int:
        frame = self.link.request(msg, payload, expect={g.MSG_ACK}, flags=flags)
        f, _ = unpack("ack", frame.payload)
        if f["status"] != g.STATUS["OK"]:
            raise ProtocolError(f"device answered ACK with status {f['status']}")
        return f["value"]


def _identity(info: DeviceInfo) -> tuple:
    return (info.protocol_hash, info.build_id, info.model_hash, info.board_id)
