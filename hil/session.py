"""One device: handshake, image check, inference and single-kernel runs.

DeviceSession speaks the protocol of hil/protocol over a Link; it knows
nothing of how the device was started (runners) or what is right (compare).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from hil.errors import ConfigError, DeviceError, ProtocolError
from hil.protocol import generated as g
from hil.protocol.fault import DeviceFault, FaultInfo  # noqa: F401  (re-exported)
from hil.protocol.link import Link
from hil.protocol.messages import pack, size, text, unpack
from hil.reference.spec import FUNCTION_IDS, KERNEL_SPECS

__all__ = ["DeviceSession", "DeviceInfo", "LayerResult", "KernelResult", "DeviceFault",
           "FaultInfo", "DUMP_MODES"]

DUMP_MODES = {name.lower(): value for name, value in g.ENUMS["dump"].items()}
_BACKENDS = {1: "portable", 2: "cmsis-nn"}
_VARIANTS = {v: k.lower() for k, v in g.ENUMS["variant"].items()}
_CYCLE_SOURCES = {v: k.lower() for k, v in g.ENUMS["cycle_source"].items()}
DEFAULT_RUN_TIMEOUT = 30.0


@dataclass(frozen=True)
class DeviceInfo:
    """What the image on the device says about itself (the HELLO frame)."""

    protocol_version: int
    protocol_hash: int
    build_id: str
    model_hash: bytes        # first 8 bytes of the host's model hash
    model_name: str
    board_id: str
    core: str
    backend: str             # "portable" or "cmsis-nn"
    variant: str             # reference variant: "dsp" or "plain"
    cycle_source: str        # "dwt", "systick" or "host"
    cycle_hz: int
    num_layers: int
    input_size: int
    max_payload: int
    kernel_arena_bytes: int

    @classmethod
    def from_payload(cls, payload: bytes) -> "DeviceInfo":
        f, _ = unpack("hello", payload)
        return cls(
            protocol_version=f["protocol_version"], protocol_hash=f["protocol_hash"],
            build_id=text(f["build_id"]), model_hash=bytes(f["model_hash"]),
            model_name=text(f["model_name"]), board_id=text(f["board_id"]),
            core=text(f["core"]), backend=_BACKENDS.get(f["backend"], f"unknown({f['backend']})"),
            variant=_VARIANTS.get(f["variant"], f"unknown({f['variant']})"),
            cycle_source=_CYCLE_SOURCES.get(f["cycle_source"], f"unknown({f['cycle_source']})"),
            cycle_hz=f["cycle_hz"], num_layers=f["num_layers"], input_size=f["input_size"],
            max_payload=f["max_payload"], kernel_arena_bytes=f["kernel_arena_bytes"],
        )


@dataclass(frozen=True)
class LayerResult:
    index: int
    output: np.ndarray | None   # int8, flat; None unless dumped
    crc32: int                  # 0 when the run used dump="none"
    ticks: int                  # in units of DeviceInfo.cycle_source / cycle_hz
    status: int                 # arm_status of the call (0 = success)


@dataclass(frozen=True)
class KernelResult:
    output: np.ndarray | None
    status: int
    ticks: int
    crc32: int = 0


class DeviceSession:
    """Talks to one device over ``link``. Call hello() (or check_image()) first."""

    def __init__(self, link: Link, *, run_timeout: float = DEFAULT_RUN_TIMEOUT) -> None:
        self.link = link
        self.run_timeout = run_timeout
        self.info: DeviceInfo | None = None

    # -- handshake --------------------------------------------------------------

    def hello(self) -> DeviceInfo:
        frame = self.link.request(g.MSG_HELLO_REQ, expect={g.MSG_HELLO})
        self.info = DeviceInfo.from_payload(frame.payload)
        return self.info

    def check_image(self, expected_model_hash: bytes, board_id: str, *,
                    model: str | None = None, variant: str | None = None,
                    build_id: str | None = None) -> DeviceInfo:
        """Refuse a device whose protocol, model, board (or variant/build) is not
        the expected one. ``model`` names the model in the hint."""
        info = self.info or self.hello()
        model = model or info.model_name or "MODEL"
        fix = f"rebuild and flash the image: hil flash --board {board_id} --model {model}"
        if (info.protocol_version, info.protocol_hash) != (g.PROTOCOL_VERSION, g.PROTOCOL_HASH):
            raise DeviceError(
                f"device speaks protocol v{info.protocol_version} "
                f"(hash {info.protocol_hash:08x}), this hil speaks v{g.PROTOCOL_VERSION} "
                f"(hash {g.PROTOCOL_HASH:08x})", hint=fix)
        want = bytes(expected_model_hash)[:len(info.model_hash)]
        if info.model_hash != want:
            raise DeviceError(
                f"device runs model {info.model_name!r} ({info.model_hash.hex()}), "
                f"expected {model!r} ({want.hex()})", hint=fix)
        if info.board_id != board_id:
            raise DeviceError(
                f"device image was built for board {info.board_id!r}, not {board_id!r}",
                hint=fix)
        if build_id is not None and info.build_id != build_id:
            raise DeviceError(
                f"device runs firmware build {info.build_id!r}, expected {build_id!r}",
                hint=fix)
        if variant is not None and info.variant != variant:
            raise DeviceError(
                f"device image uses the {info.variant} kernel path, expected {variant}",
                hint=fix)
        return info

    def _require_info(self) -> DeviceInfo:
        return self.info or self.hello()

    def _chunk_bytes(self, header: str) -> int:
        return min(self._require_info().max_payload, g.MAX_PAYLOAD) - size(header)

    # -- inference --------------------------------------------------------------

    def load_input(self, x: np.ndarray) -> None:
        info = self._require_info()
        if not isinstance(x, np.ndarray) or x.dtype != np.int8:
            raise ConfigError(
                f"input must be an int8 numpy array, got {getattr(x, 'dtype', type(x).__name__)}",
                hint="quantise the input to q7 (np.int8) first")
        if x.size != info.input_size:
            raise ConfigError(
                f"input has {x.size} elements {tuple(x.shape)}, the device's model "
                f"{info.model_name!r} takes {info.input_size}",
                hint="pass one input tensor of the model's input shape")
        data = np.ascontiguousarray(x).tobytes()
        step = self._chunk_bytes("chunk")
        for off in range(0, len(data), step):
            self._expect_ack(g.MSG_LOAD_INPUT, pack("chunk", offset=off) + data[off:off + step])

    def infer(self, x: np.ndarray, dump: str = "all") -> list[LayerResult]:
        """Run the network on ``x``; one LayerResult per layer that ran.

        A DeviceError (DeviceFault included) raised mid-run carries the layers
        that completed before it as ``exc.results``.
        """
        mode = _dump_mode(dump)
        self.load_input(x)
        results: list[LayerResult] = []
        try:
            self._collect_run(mode, results)
        except DeviceError as exc:
            exc.results = results  # a run that dies half-way keeps what it had
            raise
        return results

    def _collect_run(self, mode: int, results: list[LayerResult]) -> None:
        parts: dict[int, bytearray] = {}
        for frame in self.link.exchange(g.MSG_RUN, pack("run", dump=mode),
                                        until={g.MSG_RUN_DONE}, timeout=self.run_timeout):
            if frame.type == g.MSG_LAYER_OUTPUT:
                f, data = unpack("layer_chunk", frame.payload, exact=False)
                _place(parts.setdefault(f["layer"], bytearray()), f["offset"], data)
            elif frame.type == g.MSG_LAYER_DONE:
                f, _ = unpack("layer_done", frame.payload)
                output = _assemble(parts.pop(f["layer"], bytearray()), f, mode,
                                   f"layer {f['layer']}")
                results.append(LayerResult(f["layer"], output, f["crc32"], f["ticks"],
                                           f["status"]))
            elif frame.type == g.MSG_RUN_DONE:
                f, _ = unpack("run_done", frame.payload)
                if f["layers_run"] != len(results):
                    raise ProtocolError(
                        f"device ran {f['layers_run']} layers but reported {len(results)}")
            else:
                raise ProtocolError(f"unexpected frame type 0x{frame.type:02x} during RUN")

    # -- single kernels ---------------------------------------------------------

    def run_kernel(self, function: str, scalars: Mapping[str, int],
                   arrays: Mapping[str, np.ndarray], dump: str = "all") -> KernelResult:
        """Run one CMSIS-NN function on the device's kernel arena.

        ``scalars`` are the function's scalar C parameters by name, ``arrays``
        its input/weights/bias by C name (as in the golden-vector files).
        """
        spec = KERNEL_SPECS.get(function)
        if spec is None:
            raise ConfigError(f"unknown kernel {function!r}",
                              hint=f"use one of: {', '.join(KERNEL_SPECS)}")
        params = _scalar_params(spec, scalars)
        regions = {"input": spec.input, "weights": spec.weights, "bias": spec.bias}
        data = {}
        for region, cname in regions.items():
            if cname is None:
                data[region] = b""
                continue
            want = {"input": spec.input_size, "weights": spec.weights_size,
                    "bias": spec.bias_size}[region](params)
            data[region] = _array_bytes(function, cname, arrays, want)
        out_size = spec.output_size(params)
        self._check_arena_fits(function, [len(b) for b in data.values()] + [out_size])

        setup = pack("kernel_setup", input_size=len(data["input"]),
                     weights_size=len(data["weights"]), bias_size=len(data["bias"]),
                     output_size=out_size)
        self._expect_ack(g.MSG_KERNEL_SETUP, setup)
        step = self._chunk_bytes("kernel_chunk")
        for region, blob in data.items():
            rid = g.ENUMS["region"][region.upper()]
            for off in range(0, len(blob), step):
                self._expect_ack(g.MSG_KERNEL_LOAD, pack("kernel_chunk", region=rid, offset=off)
                                 + blob[off:off + step])

        mode = _dump_mode(dump)
        values = [params[name] for name in spec.scalars]
        run = pack("kernel_run", function=FUNCTION_IDS[function], n_params=len(values),
                   dump=mode) + struct.pack(f"<{len(values)}i", *values)
        out = bytearray()
        for frame in self.link.exchange(g.MSG_KERNEL_RUN, run, until={g.MSG_KERNEL_DONE},
                                        timeout=self.run_timeout):
            if frame.type == g.MSG_KERNEL_OUTPUT:
                f, chunk = unpack("chunk", frame.payload, exact=False)
                _place(out, f["offset"], chunk)
            elif frame.type == g.MSG_KERNEL_DONE:
                f, _ = unpack("kernel_done", frame.payload)
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
                hint="rebuild the firmware with a larger -DHIL_KERNEL_ARENA_BYTES")

    def _expect_ack(self, msg: int, payload: bytes) -> int:
        frame = self.link.request(msg, payload, expect={g.MSG_ACK})
        f, _ = unpack("ack", frame.payload)
        if f["status"] != g.STATUS["OK"]:
            raise ProtocolError(f"device answered ACK with status {f['status']}")
        return f["value"]


def _dump_mode(dump: str) -> int:
    try:
        return DUMP_MODES[dump]
    except KeyError:
        raise ConfigError(f"unknown dump mode {dump!r}",
                          hint=f"use one of: {', '.join(DUMP_MODES)}") from None


def _scalar_params(spec, scalars: Mapping[str, int]) -> dict[str, int]:
    missing = [n for n in spec.scalars if n not in scalars]
    if missing:
        raise ConfigError(f"{spec.name} needs scalar parameter(s) {', '.join(missing)}",
                          hint=f"pass all of: {', '.join(spec.scalars)}")
    params = {n: int(scalars[n]) for n in spec.scalars}
    bad = [n for n, v in params.items() if not -(2**31) <= v < 2**31]
    if bad:
        raise ConfigError(f"{spec.name}: parameter(s) {', '.join(bad)} out of range")
    return params


def _array_bytes(function: str, cname: str, arrays: Mapping[str, np.ndarray],
                 want: int) -> bytes:
    if cname not in arrays:
        raise ConfigError(f"{function} needs array {cname!r}",
                          hint=f"pass it in arrays={{{cname!r}: np.ndarray(int8)}}")
    a = np.asarray(arrays[cname])
    if a.dtype != np.int8:
        raise ConfigError(f"{function}: array {cname!r} is {a.dtype}, expected int8")
    if a.size != want:
        raise ConfigError(f"{function}: array {cname!r} has {a.size} elements, the "
                          f"parameters say {want}")
    return np.ascontiguousarray(a).tobytes()


def _place(buf: bytearray, offset: int, data: bytes) -> None:
    """Put a chunk in place; a repeated chunk overwrites identically."""
    if len(buf) < offset:
        buf.extend(bytes(offset - len(buf)))
    buf[offset:offset + len(data)] = data


def _assemble(buf: bytearray, done: dict, mode: int, what: str) -> np.ndarray | None:
    if mode != DUMP_MODES["all"]:
        return None
    if len(buf) != done["size"]:
        raise ProtocolError(f"{what}: received {len(buf)} of {done['size']} output bytes")
    if zlib.crc32(buf) != done["crc32"]:
        raise ProtocolError(f"{what}: output CRC-32 differs from the device's digest")
    return np.frombuffer(bytes(buf), dtype=np.int8).copy()
