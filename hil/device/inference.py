"""Inference on one device: inputs in, every layer's result out, with recovery.

A vector's run is repeated until every layer's result has arrived in frames
that passed their checks (results from different attempts of the same input
are merged: the device is deterministic); a timeout, a cut or a device reset
makes the session re-handshake first and resume at the same vector. Each
vector has a retry budget; past it, DeviceError says what kept failing.
"""

from __future__ import annotations

import math
import time
import zlib
from collections import deque
from dataclasses import dataclass

import numpy as np

from hil.device.dump import PROTOCOL_MODES, protocol_mode
from hil.device.tensors import place
from hil.errors import (
    ConfigError,
    DeviceError,
    DeviceGone,
    ImageChanged,  # noqa: F401
    LinkTimeout,
    ProtocolError,
    RecoveryGaveUp,
    WatchdogReset,
)
from hil.protocol import generated as g
from hil.protocol.fault import DeviceFault
from hil.protocol.frames import Frame
from hil.protocol.input_coding import InputChunk, input_chunks
from hil.protocol.messages import pack, unpack
from hil.protocol.summary import Summary, decode_result, layers_digest

# LOAD_INPUT frames in flight at once, acknowledged: the fallback upload.
INPUT_WINDOW = 3
# Bytes the host may send ahead while the device computes: they wait in the
# device's receive buffer, and the smallest we ship is the stm32f7 port's
# 8 KiB RX ring (one maximal frame and a RUN fit with room to spare); on
# QEMU the emulated UART pushes back, so nothing can be overrun.
AHEAD_BYTES = 6144
QUIET = g.ENUMS["frame_flag"]["QUIET"]
SUMMARY = g.ENUMS["dump"]["SUMMARY"]

# End the vector (and the run) at once: retrying cannot help.
TERMINAL_ERRORS = (DeviceFault, DeviceGone, ImageChanged, WatchdogReset)


@dataclass(frozen=True)
class LayerResult:
    index: int
    output: np.ndarray | None  # int8, flat; None unless dumped
    crc32: int  # 0 when the run used dump="none"
    ticks: int  # in units of DeviceInfo.cycle_source / cycle_hz
    status: int  # arm_status of the call (0 = success)


class Inference:
    """DeviceSession's inference: inputs sent (pipelined, and ahead of time), the run
    collected layer by layer, and recovered after loss, damage, timeouts or resets.
    Mixed into DeviceSession; relies on its link, info, chunking and resync."""

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

    def _input_chunks(self, data: bytes) -> list[InputChunk]:
        return input_chunks(data, self._chunk_bytes("chunk"))

    def _send_input(self, data: bytes, *, quiet: bool = False) -> None:
        """The input to the device. ``quiet``: no acknowledgements, for a clean
        link and a RUN whose RESULT names the input it ran on."""
        self._preloaded = None  # this upload replaces whatever was sent ahead
        chunks = self._input_chunks(data)
        if quiet:
            self._send_quiet(chunks)
            return
        try:
            self._send_pipelined(chunks)
            return
        except (LinkTimeout, ProtocolError) as exc:
            self.stats.note(f"pipelined input: {exc}")
        # Something was lost or damaged: every chunk again, each acknowledged
        # before the next (chunk writes are idempotent), with the link's resends.
        for c in chunks:
            self._expect_ack(g.MSG_LOAD_INPUT, c.payload, flags=c.flags)

    def _send_quiet(self, chunks: list[InputChunk]) -> None:
        for c in chunks:
            self.link.send(
                Frame(g.MSG_LOAD_INPUT, self.link.next_seq(), c.payload, c.flags | QUIET)
            )

    def _send_pipelined(self, chunks: list[InputChunk]) -> None:
        """Up to INPUT_WINDOW chunks in flight, so the wire never idles waiting for an ACK.

        Any surprise (a damaged-frame ERROR, an ACK that does not come, a
        refused chunk) raises LinkTimeout or ProtocolError for the caller to
        fall back on stop-and-wait.
        """
        link = self.link
        pending: deque[int] = deque()
        wait = max(1.0, 2 * link.resend_after)
        for i, c in enumerate(chunks):
            seq = link.next_seq()
            link.send(Frame(g.MSG_LOAD_INPUT, seq, c.payload, c.flags))
            pending.append(seq)
            while pending and (len(pending) >= INPUT_WINDOW or i == len(chunks) - 1):
                got = link.receive(wait + link.in_flight_s(), "ACK answering LOAD_INPUT")
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
        self,
        x: np.ndarray,
        dump: str = "all",
        next_x: np.ndarray | None = None,
        *,
        expected_crcs: list[int] | None = None,
    ) -> list[LayerResult]:
        """Run the network on ``x``; one LayerResult per layer that ran.

        ``dump="digest"`` is one SUMMARY run: a single RESULT frame whose
        digest over all layer digests is checked against ``expected_crcs``
        (the reference's CRC-32 per layer); only when it differs, or without
        them, are the per-layer digests fetched (DETAIL). Either way every
        result carries its layer's CRC-32, which then is proven the same.

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
        mode = protocol_mode(dump)
        data = self._input_bytes(x)
        ahead = self._input_bytes(next_x) if next_x is not None and self._link_clean else None
        crc = zlib.crc32(data)
        if mode == PROTOCOL_MODES["digest"]:
            return self._infer_summary(data, crc, ahead, expected_crcs)
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
            if self._out_of_attempts(stalled, failures):
                raise self._gave_up(failures, state.results())
        # Frames shrink while the link damages them and grow back once a
        # vector goes through clean: the size settles where most frames survive.
        self._link_clean = not failures and self.link.stats.retransmissions == resent_before
        if self._link_clean:
            self._grow_chunk("layer_chunk")
        else:
            self._shrink_chunk("layer_chunk")
        return state.results()

    def _out_of_attempts(self, stalled: int, failures: int) -> bool:
        """Too many attempts in a row brought nothing new, or too many in all."""
        return stalled > self.vector_retries or failures > 8 * (self.vector_retries + 1)

    def _gave_up(self, failures: int, results: list[LayerResult]) -> RecoveryGaveUp:
        return RecoveryGaveUp(
            f"gave up on a vector after {failures} attempts; last causes: {self.stats.causes()}",
            hint=self.link.log_hint() + "; a noisy link needs a lower baud rate or "
            "a better cable, a silent device a reset",
            results=results,
        )

    def _infer_summary(
        self, data: bytes, crc: int, ahead: bytes | None, expected: list[int] | None
    ) -> list[LayerResult]:
        """One vector as a SUMMARY run, recovered like a streamed one (see infer)."""
        failures = stalled = 0
        upload = self._preloaded != crc
        self._preloaded = None
        quiet = self._link_clean
        damage_before = self.link.damage_seen
        while True:
            heard = self.link.counters()["damaged_frames"]
            finished = _RunState(PROTOCOL_MODES["digest"], self._require_info().num_layers, crc)
            try:
                if upload:
                    self._send_input(data, quiet=quiet)
                upload = True
                pending, ahead = ahead, None  # sent ahead once at most: a retry is not clean
                run_seq, summary = self._summary_run(pending, finished)
                heard = -1  # the device answered
                if summary.input_crc32 == crc:
                    results = self._summary_results(run_seq, summary, expected, crc)
                    break
                self.stats.reruns += 1
                self.stats.note("the device ran on another input (a frame lost, or it restarted?)")
                quiet = False  # acknowledged chunks next time
            except TERMINAL_ERRORS as exc:
                # A fault handler sends the layers the run finished before it.
                exc.results = finished.results()
                raise
            except DeviceError as exc:
                self.stats.note(str(exc))
                self._counts_base = None
                quiet = False
                try:
                    self.resync()
                except TERMINAL_ERRORS:
                    raise
                except DeviceError as again:
                    self.stats.note(f"resync: {again}")
                    time.sleep(0.05)
            failures += 1
            # Smaller frames may get through a noisy link: while they can still
            # shrink, an attempt the device answered (if only with damaged
            # frames) is not held against the budget; a silent device's is.
            before = self._chunk_bytes("chunk")
            self._shrink_chunk("chunk")
            answered = heard < 0 or self.link.counters()["damaged_frames"] > heard
            stalled += not answered or self._chunk_bytes("chunk") == before
            if self._out_of_attempts(stalled, failures):
                raise self._gave_up(failures, [])
        # As for streamed runs: frames shrink while the link damages them and
        # grow back after a clean vector, settling where most get through.
        # A RUN asked again because its RESULT was slow (the device still taking
        # in what was sent ahead) is no sign of noise; damage is.
        self._link_clean = not failures and self.link.damage_seen == damage_before
        if self._link_clean:
            self._grow_chunk("chunk")
        else:
            self._shrink_chunk("chunk")
        return results

    def _summary_run(self, ahead: bytes | None, finished: "_RunState") -> tuple[int, Summary]:
        """RUN in SUMMARY mode; the seq it went out with and its decoded RESULT.

        LAYER_DONE frames come only ahead of a FAULT (the layers finished
        before it) and are gathered in ``finished``.

        ``ahead`` (the next input) follows the RUN at once, quietly, when it
        fits the device's receive buffer: the device reads it once it has
        answered, so the wire keeps busy while the device computes.
        """
        base = self._counts_base
        run = pack("run", dump=SUMMARY, max_chunk=0, base=base[0] if base else 0)
        # Asked again every resend_after until the whole run's time is up: a RUN
        # sent again is answered from what the device holds, so a lost RESULT
        # costs a resend interval, not a run.
        wait = self.link.resend_after
        stream = self.link.exchange(
            g.MSG_RUN,
            run,
            until={g.MSG_RESULT},
            timeout=wait,
            retries=max(2, math.ceil(self._summary_wait() / wait)) if wait > 0 else 2,
            sent=(lambda: self._send_ahead(ahead)) if ahead is not None else None,
        )
        try:
            for frame in stream:
                if frame.type == g.MSG_RESULT:
                    break
                if frame.type != g.MSG_LAYER_DONE:
                    raise ProtocolError(f"unexpected frame type 0x{frame.type:02x} answering RUN")
                finished.done(unpack("layer_done", frame.payload)[0])
        finally:
            stream.close()
        seq = frame.seq
        summary = decode_result(
            frame.payload,
            num_layers=self._require_info().num_layers,
            base=base[1] if base else None,
        )
        self._counts_base = (seq, summary.ticks)
        return seq, summary

    def _summary_wait(self) -> float:
        """How long a whole run may take before its RESULT is asked for again."""
        if self.layer_timeouts is None:
            return self.run_timeout
        base = self.link.resend_after
        return min(self.run_timeout, base + sum(max(0.0, t - base) for t in self.layer_timeouts))

    def _summary_results(
        self, run_seq: int, summary: Summary, expected: list[int] | None, crc: int
    ) -> list[LayerResult]:
        if (
            expected is not None
            and summary.layers_run == len(expected)
            and summary.status == 0
            and summary.digest == layers_digest(expected)
        ):
            # Every layer's digest is the reference's: CRC-32 of the CRC-32s
            # differs for any other list but with probability 2^-32.
            return [
                LayerResult(i, None, c, t, 0)
                for i, (c, t) in enumerate(zip(expected, summary.ticks))
            ]
        return self._detail(run_seq, summary, crc)

    def _detail(self, run_seq: int, summary: Summary, crc: int) -> list[LayerResult]:
        """The per-layer digests of the run the device holds (DETAIL), asked
        again for what a noisy link lost: the device does not compute them twice."""
        state = _RunState(PROTOCOL_MODES["digest"], self._require_info().num_layers, crc)
        for _ in range(self.vector_retries + 1):
            state.begin_run()
            try:
                # Records already made: the frames follow each other at once.
                for frame in self.link.exchange(
                    g.MSG_DETAIL,
                    pack("detail", run_seq=run_seq),
                    until={g.MSG_RUN_DONE},
                    timeout=self.link.resend_after,
                ):
                    self._take(state, frame)
            except LinkTimeout as exc:
                self.stats.note(f"DETAIL: {exc}")
            if state.complete():
                break
        results = state.results()
        if not state.complete() or len(results) != summary.layers_run:
            raise ProtocolError("DETAIL did not bring every layer of the run")
        if layers_digest([r.crc32 for r in results]) != summary.digest:
            raise ProtocolError("DETAIL's layer digests do not give the RESULT's digest")
        return results

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
        """Quiet LOAD_INPUT frames the device reads after its current RUN, if
        they fit its receive buffer; nothing here waits."""
        chunks = self._input_chunks(data)
        if sum(len(c.payload) for c in chunks) + 16 * len(chunks) > AHEAD_BYTES:
            return  # sent with the vector's own RUN instead
        self._send_quiet(chunks)
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
        place(self.parts.setdefault(layer, bytearray()), offset, data)
        place(self.have.setdefault(layer, bytearray()), offset, b"\x01" * len(data))

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
        if self.mode == PROTOCOL_MODES["all"]:
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
