"""One device: handshake, image check, inference and single-kernel runs.

DeviceSession speaks the protocol of hil/protocol over a Link; it knows
nothing of how the device was started (runners) or what is right (compare).

Recovery: a vector's run is repeated until every layer's result has arrived
in frames that passed their checks (results from different attempts of the
same input are merged: the device is deterministic); a timeout, a cut or a
device reset makes the session re-handshake first (reopen the link, then
reset the device if it stays silent) and resume at the same vector. Each
vector has a retry budget; past it, DeviceError says what kept failing.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from hil.errors import (
    ConfigError,
    DeviceError,
    DeviceGone,
    ImageChanged,  # noqa: F401
    KernelParameterError,
    KernelRefused,
    LinkTimeout,
    ProtocolError,
    WatchdogReset,
)
from hil.firmware.watchdog import WORK_MARGIN  # noqa: F401  (the host waits share it)
from hil.protocol import generated as g
from hil.protocol.fault import WATCHDOG_HINT, DeviceFault, FaultInfo  # noqa: F401  (re-exported)
from hil.protocol.frames import Frame
from hil.protocol.link import Link
from hil.protocol.messages import pack, size, text, unpack
from hil.reference.spec import FUNCTION_IDS, KERNEL_SPECS
from hil.reference.validation import validate_params

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

DUMP_MODES = {name.lower(): value for name, value in g.ENUMS["dump"].items()}
_BACKENDS = {1: "portable", 2: "cmsis-nn"}
_VARIANTS = {v: k.lower() for k, v in g.ENUMS["variant"].items()}
_CYCLE_SOURCES = {v: k.lower() for k, v in g.ENUMS["cycle_source"].items()}
_RESET_CAUSES = {v: k.lower() for k, v in g.ENUMS["reset_cause"].items()}
DEFAULT_RUN_TIMEOUT = 30.0
# LOAD_INPUT frames in flight at once: three maximal frames fit the smallest
# device receive buffer we ship (the stm32f7 port's 4 KiB RX ring); on QEMU
# the emulated UART pushes back, so nothing can be overrun.
INPUT_WINDOW = 3
DEFAULT_VECTOR_RETRIES = 5
MIN_CHUNK = 128  # smallest payload the adaptive chunking goes down to
SECONDS_PER_MAC = 2e-7  # pessimistic: QEMU's slowest core on a loaded CI runner


def layer_timeouts(
    macs: Sequence[int], base: float, *, seconds_per_mac: float = SECONDS_PER_MAC
) -> list[float]:
    """Seconds to wait for each layer's first frame: ``base`` plus its expected work."""
    return [base + WORK_MARGIN * m * seconds_per_mac for m in macs]


# End the vector (and the run) at once: retrying cannot help.
TERMINAL_ERRORS = (DeviceFault, DeviceGone, ImageChanged, WatchdogReset)


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
        )


@dataclass(frozen=True)
class LayerResult:
    index: int
    output: np.ndarray | None  # int8, flat; None unless dumped
    crc32: int  # 0 when the run used dump="none"
    ticks: int  # in units of DeviceInfo.cycle_source / cycle_hz
    status: int  # arm_status of the call (0 = success)


@dataclass(frozen=True)
class KernelResult:
    output: np.ndarray | None
    status: int
    ticks: int
    crc32: int = 0


class DeviceSession:
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
    ) -> DeviceInfo:
        """Refuse a device whose protocol, model, board (or variant/build) is not
        the expected one. ``model`` names the model in the hint."""
        info = self.info or self.hello()
        model = model or info.model_name or "MODEL"
        fix = f"rebuild and flash the image: hil flash --board {board_id} --model {model}"
        if (info.protocol_version, info.protocol_hash) != (g.PROTOCOL_VERSION, g.PROTOCOL_HASH):
            raise DeviceError(
                f"device speaks protocol v{info.protocol_version} "
                f"(hash {info.protocol_hash:08x}), this hil speaks v{g.PROTOCOL_VERSION} "
                f"(hash {g.PROTOCOL_HASH:08x})",
                hint=fix,
            )
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

    def load_input(self, x: np.ndarray) -> None:
        self._send_input(self._input_bytes(x))

    def _input_bytes(self, x: np.ndarray) -> bytes:
        info = self._require_info()
        if not isinstance(x, np.ndarray) or x.dtype != np.int8:
            raise ConfigError(
                f"input must be an int8 numpy array, got {getattr(x, 'dtype', type(x).__name__)}",
                hint="quantise the input to q7 (np.int8) first",
            )
        if x.size != info.input_size:
            raise ConfigError(
                f"input has {x.size} elements {tuple(x.shape)}, the device's model "
                f"{info.model_name!r} takes {info.input_size}",
                hint="pass one input tensor of the model's input shape",
            )
        return np.ascontiguousarray(x).tobytes()

    def _send_input(self, data: bytes) -> None:
        self._preloaded = None  # this upload replaces whatever was sent ahead
        step = self._chunk_bytes("chunk")
        chunks = [
            pack("chunk", offset=off) + data[off : off + step] for off in range(0, len(data), step)
        ]
        try:
            self._send_pipelined(chunks)
            return
        except (LinkTimeout, ProtocolError) as exc:
            self.stats.note(f"pipelined input: {exc}")
        # Something was lost or damaged: every chunk again, each acknowledged
        # before the next (chunk writes are idempotent), with the link's resends.
        for payload in chunks:
            self._expect_ack(g.MSG_LOAD_INPUT, payload)

    def _send_pipelined(self, chunks: list[bytes]) -> None:
        """Up to INPUT_WINDOW chunks in flight, so the wire never idles waiting for an ACK.

        Any surprise (a damaged-frame ERROR, an ACK that does not come, a
        refused chunk) raises LinkTimeout or ProtocolError for the caller to
        fall back on stop-and-wait.
        """
        link = self.link
        pending: deque[int] = deque()
        wait = max(1.0, 2 * link.resend_after)
        for i, payload in enumerate(chunks):
            seq = link.next_seq()
            link.send(Frame(g.MSG_LOAD_INPUT, seq, payload))
            pending.append(seq)
            while pending and (len(pending) >= INPUT_WINDOW or i == len(chunks) - 1):
                got = link.receive(wait, "ACK answering LOAD_INPUT")
                link.check_device_event(got, "receiving the input")
                if got.type == g.MSG_ACK and got.seq == pending[0]:
                    if unpack("ack", got.payload)[0]["status"] != g.STATUS["OK"]:
                        raise ProtocolError("the device refused an input chunk")
                    pending.popleft()
                elif got.type == g.MSG_ERROR:
                    raise ProtocolError("the device reported a damaged input chunk")
                else:
                    link.stats.stale_frames += 1

    def infer(
        self, x: np.ndarray, dump: str = "all", next_x: np.ndarray | None = None
    ) -> list[LayerResult]:
        """Run the network on ``x``; one LayerResult per layer that ran.

        Lost or damaged frames, timeouts, cuts and device resets are recovered
        from (see the module doc). A DeviceError (DeviceFault included) that
        ends the vector carries the layers received intact as ``exc.results``.

        ``next_x``, the input of the following call, is sent while the device
        computes this one, so the wire never waits for the device. The device
        takes it in after this RUN; the following call then skips its upload.
        Nothing relies on it having landed: every LAYER_DONE names the CRC-32
        of the input it ran on, and a run on any other input is discarded and
        repeated with a fresh upload.
        """
        mode = _dump_mode(dump)
        data = self._input_bytes(x)
        ahead = self._input_bytes(next_x) if next_x is not None and self._link_clean else None
        crc = zlib.crc32(data)
        state = _RunState(mode, self._require_info().num_layers, crc)
        failures = stalled = best = 0
        resent_before = self.link.stats.retransmissions
        upload = self._preloaded != crc
        self._preloaded = None
        while True:
            try:
                if upload:
                    self._send_input(data)
                upload = True
                if self._collect_run(state, ahead):
                    break
                self.stats.reruns += 1
                self.stats.note(state.problem or "output frames lost or damaged")
                state.problem = ""
            except TERMINAL_ERRORS as exc:
                exc.results = state.results()  # a run that dies half-way keeps what it had
                raise
            except DeviceError as exc:
                self.stats.note(str(exc))
                self._try_resync(state)
            failures += 1
            self._shrink_chunk("layer_chunk")
            # The budget counts attempts that brought nothing new, so a noisy
            # link that still makes progress is not given up on (hard cap aside).
            progress = state.progress()
            stalled = 0 if progress > best else stalled + 1
            best = max(best, progress)
            if stalled > self.vector_retries or failures > 8 * (self.vector_retries + 1):
                raise DeviceError(
                    f"gave up on a vector after {failures} attempts; last causes: "
                    f"{self.stats.causes()}",
                    hint=self.link.log_hint() + "; a noisy link needs a lower baud rate or "
                    "a better cable, a silent device a reset",
                    results=state.results(),
                )
        # Frames shrink while the link damages them and grow back once a
        # vector goes through clean: the size settles where most frames survive.
        self._link_clean = not failures and self.link.stats.retransmissions == resent_before
        if self._link_clean:
            self._grow_chunk("layer_chunk")
        else:
            self._shrink_chunk("layer_chunk")
        return state.results()

    def _try_resync(self, state: "_RunState") -> None:
        try:
            self.resync()
        except TERMINAL_ERRORS as exc:
            exc.results = state.results()
            raise
        except DeviceError as exc:
            # Counted as a failed attempt by the caller; the next one resyncs again.
            self.stats.note(f"resync: {exc}")
            time.sleep(0.05)

    def _collect_run(self, state: "_RunState", ahead: bytes | None = None) -> bool:
        """One RUN; True once every layer has arrived intact (possibly over several runs).

        ``ahead`` (the next input) is sent once the device has started computing.
        """
        run = pack(
            "run",
            dump=state.mode,
            max_chunk=0 if self._chunk is None else self._chunk_bytes("layer_chunk"),
        )
        state.begin_run()
        stream = self.link.exchange(
            g.MSG_RUN,
            run,
            until={g.MSG_RUN_DONE},
            timeout=lambda: self._layer_wait(state.waiting_for),
            retries=1,
        )
        try:
            for frame in stream:
                self._take(state, frame)
                if ahead is not None:
                    self._send_ahead(ahead)
                    ahead = None
                if state.complete():
                    # RUN_DONE adds nothing once every layer is in; it ends up stale.
                    return True
        except LinkTimeout as exc:
            self._back_off(state.waiting_for)
            raise LinkTimeout(
                f"no frame from layer {state.waiting_for} in time: {exc}", hint=exc.hint
            ) from exc
        finally:
            stream.close()
        return state.complete()

    def _send_ahead(self, data: bytes) -> None:
        """LOAD_INPUT frames the device reads after its current RUN; their ACKs
        arrive later and are dropped as stale, so nothing here waits."""
        step = self._chunk_bytes("chunk")
        for off in range(0, len(data), step):
            self.link.send(
                Frame(
                    g.MSG_LOAD_INPUT,
                    self.link.next_seq(),
                    pack("chunk", offset=off) + data[off : off + step],
                )
            )
        self._preloaded = zlib.crc32(data)

    def _take(self, state: "_RunState", frame) -> None:
        if frame.type == g.MSG_LAYER_OUTPUT:
            f, data = unpack("layer_chunk", frame.payload, exact=False)
            state.chunk(f["layer"], f["offset"], data)
        elif frame.type == g.MSG_LAYER_DONE:
            f, _ = unpack("layer_done", frame.payload)
            state.done(f)
        elif frame.type == g.MSG_RUN_DONE:
            f, _ = unpack("run_done", frame.payload)
            state.run_done(f["layers_run"])
        else:
            raise ProtocolError(f"unexpected frame type 0x{frame.type:02x} during RUN")

    def _back_off(self, layer: int) -> None:
        """A layer that outlasted its wait gets twice as long next time: a slow but
        alive device (a loaded CI runner) converges instead of being given up on."""
        if self.layer_timeouts is not None and 0 <= layer < len(self.layer_timeouts):
            self.layer_timeouts[layer] = min(self.run_timeout, 2 * self.layer_timeouts[layer])

    def _layer_wait(self, layer: int) -> float:
        if self.layer_timeouts is None:
            return self.run_timeout
        if 0 <= layer < len(self.layer_timeouts):
            return self.layer_timeouts[layer]
        return self.link.resend_after

    # -- single kernels ---------------------------------------------------------

    def run_kernel(
        self,
        function: str,
        scalars: Mapping[str, int],
        arrays: Mapping[str, np.ndarray],
        dump: str = "all",
    ) -> KernelResult:
        """Run one CMSIS-NN function on the device's kernel arena.

        ``scalars`` are the function's scalar C parameters by name, ``arrays``
        its input/weights/bias by C name (as in the golden-vector files).
        The device checks the call itself (firmware/src/kcheck.c) and raises
        KernelRefused, without running anything, when it breaks a rule of
        hil.reference.validation or the kernel arena is too small for it.
        """
        spec = KERNEL_SPECS.get(function)
        if spec is None:
            raise ConfigError(
                f"unknown kernel {function!r}", hint=f"use one of: {', '.join(KERNEL_SPECS)}"
            )
        params = _scalar_params(spec, scalars)
        self._preloaded = None  # the kernel arena may share memory with the model's
        regions = {"input": spec.input, "weights": spec.weights, "bias": spec.bias}
        data = {}
        for region, cname in regions.items():
            if cname is None:
                data[region] = b""
                continue
            want = {"input": spec.input_size, "weights": spec.weights_size, "bias": spec.bias_size}[
                region
            ](params)
            data[region] = _array_bytes(function, cname, arrays, want)
        out_size = spec.output_size(params)
        self._check_arena_fits(function, [len(b) for b in data.values()] + [out_size])

        setup = pack(
            "kernel_setup",
            input_size=len(data["input"]),
            weights_size=len(data["weights"]),
            bias_size=len(data["bias"]),
            output_size=out_size,
        )
        self._expect_ack(g.MSG_KERNEL_SETUP, setup)
        step = self._chunk_bytes("kernel_chunk")
        for region, blob in data.items():
            rid = g.ENUMS["region"][region.upper()]
            for off in range(0, len(blob), step):
                self._expect_ack(
                    g.MSG_KERNEL_LOAD,
                    pack("kernel_chunk", region=rid, offset=off) + blob[off : off + step],
                )

        mode = _dump_mode(dump)
        values = [params[name] for name in spec.scalars]
        run = pack(
            "kernel_run", function=FUNCTION_IDS[function], n_params=len(values), dump=mode
        ) + struct.pack(f"<{len(values)}i", *values)
        out = bytearray()
        for frame in self.link.exchange(
            g.MSG_KERNEL_RUN, run, until={g.MSG_KERNEL_DONE}, timeout=self.run_timeout
        ):
            if frame.type == g.MSG_KERNEL_OUTPUT:
                f, chunk = unpack("chunk", frame.payload, exact=False)
                _place(out, f["offset"], chunk)
            elif frame.type == g.MSG_KERNEL_DONE:
                f, _ = unpack("kernel_done", frame.payload)
                refusal = _kernel_refusal(spec, params, f)
                if refusal is not None:
                    raise refusal
                output = _assemble(out, f, mode, function)
                return KernelResult(output, f["status"], f["ticks"], f["crc32"])
            else:
                raise ProtocolError(f"unexpected frame type 0x{frame.type:02x} during KERNEL_RUN")
        raise ProtocolError("KERNEL_RUN ended without KERNEL_DONE")

    def _check_arena_fits(self, function: str, sizes: list[int]) -> None:
        # Mirrors the device's layout (firmware/src/kernel.c): each region is
        # followed by 4 spare bytes and aligned to 4.
        need = sum((n + 4 + 3) & ~3 for n in sizes)
        have = self._require_info().kernel_arena_bytes
        if need > have:
            raise DeviceError(
                f"{function}: input, weights, bias and output need {need} bytes, the device's "
                f"kernel arena has {have}",
                hint="rebuild the firmware with a larger -DHIL_KERNEL_ARENA_BYTES",
            )

    def _expect_ack(self, msg: int, payload: bytes) -> int:
        frame = self.link.request(msg, payload, expect={g.MSG_ACK})
        f, _ = unpack("ack", frame.payload)
        if f["status"] != g.STATUS["OK"]:
            raise ProtocolError(f"device answered ACK with status {f['status']}")
        return f["value"]


def _identity(info: DeviceInfo) -> tuple:
    return (info.protocol_hash, info.build_id, info.model_hash, info.board_id)


class _RunState:
    """Layer results of one vector gathered over one or more RUNs.

    A layer counts only once its LAYER_DONE has arrived and, for full dumps,
    every output byte has arrived and their CRC-32 equals the device's. The
    output chunks of a RUN are held back until a LAYER_DONE of that same RUN
    shows it ran on our input (a device that restarted computes on another);
    a RUN that never shows it contributes nothing.
    """

    def __init__(self, mode: int, num_layers: int, input_crc32: int | None = None) -> None:
        self.mode = mode
        self.input_crc32 = input_crc32
        self.num_layers = num_layers
        self.parts: dict[int, bytearray] = {}
        self.have: dict[int, bytearray] = {}  # 1 per output byte received
        self.finished: dict[int, LayerResult] = {}
        self.layers_run: int | None = None
        self.waiting_for = 0  # the layer whose frames come next
        self.problem = ""  # why the last run did not complete
        self.begin_run()

    def begin_run(self) -> None:
        self.waiting_for = 0
        self._trusted: bool | None = None if self.input_crc32 is not None else True
        self._held: list[tuple[int, int, bytes]] = []

    def chunk(self, layer: int, offset: int, data: bytes) -> None:
        self.waiting_for = layer
        if layer in self.finished or self._trusted is False:
            return
        if self._trusted is None:
            self._held.append((layer, offset, data))
            return
        _place(self.parts.setdefault(layer, bytearray()), offset, data)
        _place(self.have.setdefault(layer, bytearray()), offset, b"\x01" * len(data))

    def run_done(self, layers_run: int) -> None:
        if self._trusted:  # a RUN on another input may have stopped elsewhere
            self.layers_run = layers_run

    def done(self, f: dict) -> None:
        layer = f["layer"]
        self.waiting_for = layer + 1
        if self._trusted is None:
            self._trusted = f["input_crc32"] == self.input_crc32
            held, self._held = self._held, []
            for args in held:
                self.chunk(*args)
        if not self._trusted:
            self.problem = f"layer {layer}: the device ran on another input (it restarted?)"
            return
        if layer in self.finished:
            return
        output = None
        if self.mode == DUMP_MODES["all"]:
            buf, have = self.parts.get(layer, bytearray()), self.have.get(layer, bytearray())
            if len(buf) != f["size"] or have.count(0):
                return  # some chunk was lost: a later run fills it in
            if zlib.crc32(buf) != f["crc32"]:
                self.problem = f"layer {layer}: output CRC-32 differs from the device's digest"
                self.parts.pop(layer)  # cannot tell which chunk is wrong: fetch them all again
                self.have.pop(layer)
                return
            output = np.frombuffer(bytes(buf), dtype=np.int8).copy()
        self.finished[layer] = LayerResult(layer, output, f["crc32"], f["ticks"], f["status"])
        self.parts.pop(layer, None)
        self.have.pop(layer, None)

    def progress(self) -> int:
        """Grows with every layer finished and output byte received."""
        return 1_000_000 * len(self.finished) + sum(len(h) - h.count(0) for h in self.have.values())

    def expected_layers(self) -> int:
        stopped = [i for i, r in self.finished.items() if r.status != 0]
        if stopped:
            return min(stopped) + 1  # the device stops after a refused layer
        return self.num_layers if self.layers_run is None else self.layers_run

    def complete(self) -> bool:
        return all(i in self.finished for i in range(self.expected_layers()))

    def results(self) -> list[LayerResult]:
        out = []
        for i in range(self.expected_layers()):
            if i not in self.finished:
                break
            out.append(self.finished[i])
        return out


_KERNEL_REGIONS = {v: k.lower() for k, v in g.ENUMS["region"].items()}  # kernel_done.param
_KS = g.KERNEL_STATUS


def _kernel_refusal(spec, params: Mapping[str, int], done: dict) -> KernelRefused | None:
    """The error for a KERNEL_DONE that says the kernel was not called, else None."""
    status, index = done["status"], done["param"]
    mismatch = (
        "host and device disagree on the kernel's limits: the firmware is older or "
        "newer than this hil; rebuild and flash it"
    )
    what = None
    if status == _KS["PARAM_RANGE"]:
        what = spec.scalars[index] if index < len(spec.scalars) else f"#{index}"
        value = params.get(what, "?")
        message = (
            f"the device refused {spec.name}: parameter {what} = {value} is outside its limits"
        )
        try:  # run_kernel leaves validation to its callers: was the call simply invalid?
            validate_params(spec.name, params)
        except KernelParameterError as exc:
            mismatch = exc.hint or mismatch
            message = f"the device refused {exc.message}"
    elif status == _KS["REGION_SIZE"]:
        what = _KERNEL_REGIONS.get(index, f"#{index}")
        message = (
            f"the device refused {spec.name}: its {what} region is too small for the parameters"
        )
        if what == "scratch":
            mismatch = (
                "the kernel arena leaves too little scratch for this call: rebuild the "
                "firmware with a larger -DHIL_KERNEL_ARENA_BYTES"
            )
    elif status == _KS["BAD_FUNCTION"]:
        message = f"the device has no function {spec.name} (id {FUNCTION_IDS[spec.name]})"
    elif status == _KS["BAD_PARAMS"]:
        message = f"the device expects a different number of parameters for {spec.name}"
    else:
        return None
    return KernelRefused(message, status=status, what=what, hint=mismatch)


def _dump_mode(dump: str) -> int:
    try:
        return DUMP_MODES[dump]
    except KeyError:
        raise ConfigError(
            f"unknown dump mode {dump!r}", hint=f"use one of: {', '.join(DUMP_MODES)}"
        ) from None


def _scalar_params(spec, scalars: Mapping[str, int]) -> dict[str, int]:
    missing = [n for n in spec.scalars if n not in scalars]
    if missing:
        raise ConfigError(
            f"{spec.name} needs scalar parameter(s) {', '.join(missing)}",
            hint=f"pass all of: {', '.join(spec.scalars)}",
        )
    params = {n: int(scalars[n]) for n in spec.scalars}
    bad = [n for n, v in params.items() if not -(2**31) <= v < 2**31]
    if bad:
        raise ConfigError(f"{spec.name}: parameter(s) {', '.join(bad)} out of range")
    return params


def _array_bytes(function: str, cname: str, arrays: Mapping[str, np.ndarray], want: int) -> bytes:
    if cname not in arrays:
        raise ConfigError(
            f"{function} needs array {cname!r}",
            hint=f"pass it in arrays={{{cname!r}: np.ndarray(int8)}}",
        )
    a = np.asarray(arrays[cname])
    if a.dtype != np.int8:
        raise ConfigError(f"{function}: array {cname!r} is {a.dtype}, expected int8")
    if a.size != want:
        raise ConfigError(
            f"{function}: array {cname!r} has {a.size} elements, the parameters say {want}"
        )
    return np.ascontiguousarray(a).tobytes()


def _place(buf: bytearray, offset: int, data: bytes) -> None:
    """Put a chunk in place; a repeated chunk overwrites identically."""
    if len(buf) < offset:
        buf.extend(bytes(offset - len(buf)))
    buf[offset : offset + len(data)] = data


def _assemble(buf: bytearray, done: dict, mode: int, what: str) -> np.ndarray | None:
    if mode != DUMP_MODES["all"]:
        return None
    if len(buf) != done["size"]:
        raise ProtocolError(f"{what}: received {len(buf)} of {done['size']} output bytes")
    if zlib.crc32(buf) != done["crc32"]:
        raise ProtocolError(f"{what}: output CRC-32 differs from the device's digest")
    return np.frombuffer(bytes(buf), dtype=np.int8).copy()
