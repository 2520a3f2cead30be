"""Single-kernel runs on a device: one CMSIS-NN function, its parameters checked
on both sides, its output and count returned."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from hil.device.dump import protocol_mode
from hil.device.tensors import assemble, place
from hil.errors import (
    ConfigError,
    DeviceError,
    ImageChanged,  # noqa: F401
    KernelParameterError,
    KernelRefused,
    ProtocolError,
)
from hil.protocol import generated as g
from hil.protocol.messages import pack, unpack
from hil.reference.spec import FUNCTION_IDS, KERNEL_SPECS
from hil.reference.validation import validate_params


@dataclass(frozen=True)
class KernelResult:
    output: np.ndarray | None
    status: int
    ticks: int
    crc32: int = 0


class KernelRuns:
    """DeviceSession's single-kernel runs (KERNEL_RUN): one CMSIS-NN call on
    host-given parameters and arrays, for conformance. Mixed into DeviceSession."""

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

        mode = protocol_mode(dump)
        values = [params[name] for name in spec.scalars]
        f, out = self._kernel_exchange(data, out_size, FUNCTION_IDS[function], values, mode)
        refusal = _kernel_refusal(spec, params, f)
        if refusal is not None:
            raise refusal
        output = assemble(out, f, mode, function)
        return KernelResult(output, f["status"], f["ticks"], f["crc32"])

    def run_s8_kernel(
        self,
        function: str,
        params: Mapping[str, int],
        x: np.ndarray,
        arrays: Mapping[str, np.ndarray],
        dump: str = "all",
    ) -> KernelResult:
        """Run one CMSIS-NN s8 function on an s8 image's kernel arena.

        ``params`` are its scalars by name (hil.reference.s8.FUNCTIONS), ``x``
        its int8 input, ``arrays`` its weights (int8) and bias, multiplier,
        shift (int32); the regions are those of hil.kernels.s8. A call the
        device refuses raises KernelRefused naming the parameter or region."""
        from hil.kernels.s8 import S8_FUNCTION_IDS, region_bytes, region_data, s8_function

        if function not in S8_FUNCTION_IDS:
            raise ConfigError(
                f"unknown s8 kernel {function!r}", hint=f"use one of: {', '.join(S8_FUNCTION_IDS)}"
            )
        f8 = s8_function(function)
        values = [int(params[name]) for name in f8.scalars]
        sizes = region_bytes(function, params)
        blobs = region_data(function, arrays)
        data = {
            "input": np.ascontiguousarray(x, np.int8).tobytes(),
            "weights": blobs["weights"],
            "bias": blobs["bias"],
        }
        for region, blob in data.items():
            if len(blob) != sizes[region]:
                raise ConfigError(
                    f"{function}: the {region} region has {len(blob)} bytes, the parameters "
                    f"say {sizes[region]}"
                )
        self._preloaded = None
        self._check_arena_fits(function, [len(b) for b in data.values()] + [sizes["output"]])
        mode = protocol_mode(dump)
        f, out = self._kernel_exchange(
            data, sizes["output"], S8_FUNCTION_IDS[function], values, mode
        )
        refusal = _s8_refusal(function, f8.scalars, params, f)
        if refusal is not None:
            raise refusal
        output = assemble(out, f, mode, function)
        return KernelResult(output, f["status"], f["ticks"], f["crc32"])

    def _kernel_exchange(
        self, data: dict[str, bytes], out_size: int, fid: int, values: list[int], mode: int
    ) -> tuple[dict, bytearray]:
        """KERNEL_SETUP, the regions' KERNEL_LOADs, KERNEL_RUN: the KERNEL_DONE
        fields and the output bytes received."""
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

        run = pack("kernel_run", function=fid, n_params=len(values), dump=mode) + struct.pack(
            f"<{len(values)}i", *values
        )
        out = bytearray()
        for frame in self.link.exchange(
            g.MSG_KERNEL_RUN, run, until={g.MSG_KERNEL_DONE}, timeout=self.run_timeout
        ):
            if frame.type == g.MSG_KERNEL_OUTPUT:
                f, chunk = unpack("chunk", frame.payload, exact=False)
                place(out, f["offset"], chunk)
            elif frame.type == g.MSG_KERNEL_DONE:
                f, _ = unpack("kernel_done", frame.payload)
                return f, out
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


def _s8_refusal(
    function: str, scalars: tuple[str, ...], params: Mapping[str, int], done: dict
) -> KernelRefused | None:
    """The error for a KERNEL_DONE saying an s8 image did not call the kernel, else None."""
    status, index = done["status"], done["param"]
    hint = "the call breaks the device's rules (firmware/src/s8/kcall_s8.c)"
    what = None
    if status == _KS["PARAM_RANGE"]:
        if index < len(scalars):
            what = scalars[index]
            message = f"the device refused {function}: parameter {what} = {params.get(what)}"
        else:
            what = "shift"
            message = (
                f"the device refused {function}: a shift in the bias region is outside -31..30"
            )
    elif status == _KS["REGION_SIZE"]:
        what = _KERNEL_REGIONS.get(index, f"#{index}")
        message = f"the device refused {function}: its {what} region is too small"
        if what == "scratch":
            hint = (
                "the kernel arena leaves too little scratch for this call: rebuild the "
                "firmware with a larger -DHIL_KERNEL_ARENA_BYTES"
            )
    elif status == _KS["BAD_FUNCTION"]:
        message = f"the device's s8 image has no function {function}"
        hint = "rebuild the image with this hil (hil/kernels/s8.py)"
    elif status == _KS["BAD_PARAMS"]:
        message = f"the device expects a different number of parameters for {function}"
        hint = "rebuild the image with this hil (hil/kernels/s8.py)"
    else:
        return None
    return KernelRefused(message, status=status, what=what, hint=hint)


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
