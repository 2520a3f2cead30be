"""Build firmware/nn/s8 for the host and call its kernels through ctypes.

    libs = build_variants(tmp_dir)                  # {(path, rounding): S8Lib}
    out = libs["plain", "double"].run(fn, params, arrays, x)

``run`` takes a lowered layer's CMSIS-NN function name, its int scalar
``params`` and numpy ``arrays`` (the names of hil.reference.s8.FUNCTIONS)
and the int8 input, fills the CMSIS-NN argument structures and returns the
flat int8 output. Inputs and outputs sit in guard-framed buffers
(helpers.nnlib.GuardedBuffer): a kernel that writes outside its output,
skips an element or touches a const input raises S8CallError.

The "dsp" path compiles the ARM_MATH_DSP code against the C models of the
ACLE intrinsics in tests/helpers/acle_model, so the host runs it too; the
MVE path is only cross-compiled.
"""

from __future__ import annotations

import ctypes
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from helpers.nnlib import ACLE_MODEL_DIR, FILLS, REPO, GuardedBuffer

S8_DIR = REPO / "firmware" / "nn" / "s8"
INCLUDE_DIR = S8_DIR / "include"
SRC_DIR = S8_DIR / "src"

PATHS = {"plain": (), "dsp": (f"-I{ACLE_MODEL_DIR}", "-DARM_MATH_DSP=1")}
ROUNDING_DEFINES = {"double": (), "single": ("-DCMSIS_NN_USE_SINGLE_ROUNDING",)}
WARNINGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror")

SUCCESS = 0
ARG_ERROR = -1


def sources() -> list[Path]:
    return sorted(SRC_DIR.glob("*.c"))


def build_library(
    out_dir: Path,
    *,
    path: str = "plain",
    rounding: str = "double",
    extra_flags: Sequence[str] = (),
    cc: str = "gcc",
) -> Path:
    """Compile every s8 kernel into one shared library; returns its path."""
    out = Path(out_dir) / f"libhilnn_s8_{path}_{rounding}.so"
    cmd = [
        cc,
        *WARNINGS,
        "-fPIC",
        "-shared",
        f"-I{INCLUDE_DIR}",
        *PATHS[path],
        *ROUNDING_DEFINES[rounding],
        *extra_flags,
        *map(str, sources()),
        "-o",
        str(out),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"host build failed: {' '.join(cmd)}\n{result.stderr}")
    return out


def build_variants(out_dir: Path) -> dict[tuple[str, str], S8Lib]:
    """Every (path, rounding) build, compiled in parallel."""
    keys = [(p, r) for p in PATHS for r in ROUNDING_DEFINES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = list(pool.map(lambda k: build_library(out_dir, path=k[0], rounding=k[1]), keys))
    return {k: S8Lib(p) for k, p in zip(keys, paths)}


# The CMSIS-NN argument structures (arm_nn_types.h).
class Tile(ctypes.Structure):
    _fields_ = [("w", ctypes.c_int32), ("h", ctypes.c_int32)]


class Context(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("size", ctypes.c_int32)]


class Dims(ctypes.Structure):
    _fields_ = [(k, ctypes.c_int32) for k in ("n", "h", "w", "c")]


class Activation(ctypes.Structure):
    _fields_ = [("min", ctypes.c_int32), ("max", ctypes.c_int32)]


class PerChannelQuant(ctypes.Structure):
    _fields_ = [
        ("multiplier", ctypes.POINTER(ctypes.c_int32)),
        ("shift", ctypes.POINTER(ctypes.c_int32)),
    ]


class PerTensorQuant(ctypes.Structure):
    _fields_ = [("multiplier", ctypes.c_int32), ("shift", ctypes.c_int32)]


class ConvParams(ctypes.Structure):
    _fields_ = [
        ("input_offset", ctypes.c_int32),
        ("output_offset", ctypes.c_int32),
        ("stride", Tile),
        ("padding", Tile),
        ("dilation", Tile),
        ("activation", Activation),
    ]


class DwConvParams(ctypes.Structure):
    _fields_ = [
        ("input_offset", ctypes.c_int32),
        ("output_offset", ctypes.c_int32),
        ("ch_mult", ctypes.c_int32),
        ("stride", Tile),
        ("padding", Tile),
        ("dilation", Tile),
        ("activation", Activation),
    ]


class PoolParams(ctypes.Structure):
    _fields_ = [("stride", Tile), ("padding", Tile), ("activation", Activation)]


class FcParams(ctypes.Structure):
    _fields_ = [
        ("input_offset", ctypes.c_int32),
        ("filter_offset", ctypes.c_int32),
        ("output_offset", ctypes.c_int32),
        ("activation", Activation),
    ]


class S8CallError(AssertionError):
    """A kernel returned an error status or broke a buffer rule."""


def _i(p: Mapping[str, int], key: str) -> int:
    return int(p[key])


def _tile(p: Mapping[str, int], prefix: str) -> Tile:
    return Tile(w=_i(p, f"{prefix}_w"), h=_i(p, f"{prefix}_h"))


def _act(p: Mapping[str, int]) -> Activation:
    return Activation(min=_i(p, "activation_min"), max=_i(p, "activation_max"))


def conv_structs(function: str, p: Mapping[str, int]) -> tuple[ctypes.Structure, Dims, Dims, Dims]:
    """(conv or dw params, input, filter, output dims) of a (depthwise) convolution."""
    common = dict(
        input_offset=_i(p, "input_offset"),
        output_offset=_i(p, "output_offset"),
        stride=_tile(p, "stride"),
        padding=_tile(p, "padding"),
        dilation=_tile(p, "dilation"),
        activation=_act(p),
    )
    n, oc = _i(p, "input_n"), _i(p, "output_c")
    fh, fw = _i(p, "filter_h"), _i(p, "filter_w")
    in_dims = Dims(n, _i(p, "input_h"), _i(p, "input_w"), _i(p, "input_c"))
    out_dims = Dims(n, _i(p, "output_h"), _i(p, "output_w"), oc)
    if function.startswith("arm_depthwise"):
        return (
            DwConvParams(ch_mult=_i(p, "ch_mult"), **common),
            in_dims,
            Dims(1, fh, fw, oc),
            out_dims,
        )
    filter_c = int(p.get("filter_c", in_dims.c))  # below input_c: a grouped convolution
    return ConvParams(**common), in_dims, Dims(oc, fh, fw, filter_c), out_dims


def output_size(function: str, p: Mapping[str, int], x_size: int) -> int:
    if function in ("arm_convolve_wrapper_s8", "arm_depthwise_conv_wrapper_s8"):
        return _i(p, "input_n") * _i(p, "output_h") * _i(p, "output_w") * _i(p, "output_c")
    if function.startswith("arm_fully_connected"):
        return _i(p, "input_n") * _i(p, "output_depth")
    if function in ("arm_max_pool_s8", "arm_avgpool_s8"):
        return _i(p, "input_n") * _i(p, "output_h") * _i(p, "output_w") * _i(p, "input_c")
    if function == "arm_softmax_s8":
        return _i(p, "num_rows") * _i(p, "row_size")
    if function == "arm_relu6_s8":
        return x_size
    raise KeyError(f"no s8 kernel {function}")


class S8Lib:
    """The s8 kernels of one host build, callable by CMSIS-NN function name."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.dll = ctypes.CDLL(str(self.path))
        for name in ("arm_softmax_s8", "arm_relu6_s8"):
            getattr(self.dll, name).restype = None

    def run(
        self,
        function: str,
        params: Mapping[str, int],
        arrays: Mapping[str, np.ndarray],
        x: np.ndarray,
        *,
        fill: int = FILLS[0],
        scratch: int = 0,
    ) -> np.ndarray:
        """The flat int8 output; raises S8CallError on a bad status or buffer."""
        status, out, inputs = self.call(function, params, arrays, x, fill=fill, scratch=scratch)
        if status not in (None, SUCCESS):
            raise S8CallError(f"{function} returned status {status}")
        if not out.guards_intact():
            raise S8CallError(f"{function} wrote outside its output")
        for key, (buf, original) in inputs.items():
            if not buf.guards_intact() or not np.array_equal(buf.body.view(np.uint8), original):
                raise S8CallError(f"{function} changed its const input {key}")
        return out.body.copy()

    def call(
        self,
        function: str,
        params: Mapping[str, int],
        arrays: Mapping[str, np.ndarray],
        x: np.ndarray,
        *,
        fill: int = FILLS[0],
        scratch: int = 0,
    ) -> tuple[int | None, GuardedBuffer, dict[str, tuple[GuardedBuffer, np.ndarray]]]:
        """(status, output buffer, {input name: (buffer, original bytes)}).

        ``scratch`` bytes go to the kernel as ctx->buf (these kernels need
        none; the genuine library's do)."""
        p = params
        x = np.ascontiguousarray(x, dtype=np.int8).reshape(-1)
        inputs: dict[str, tuple[GuardedBuffer, np.ndarray]] = {}

        def const(name: str, data: np.ndarray, dtype: type) -> ctypes.c_void_p:
            data = np.ascontiguousarray(data, dtype=dtype).reshape(-1)
            buf = GuardedBuffer(data, data.nbytes, fill)
            inputs[name] = (buf, data.view(np.uint8).copy())
            return buf.ptr

        def i32(ptr: ctypes.c_void_p) -> ctypes._Pointer:
            return ctypes.cast(ptr, ctypes.POINTER(ctypes.c_int32))

        size = output_size(function, p, x.size)
        if function == "arm_relu6_s8":
            out = GuardedBuffer(x, x.size, fill)
            self.dll.arm_relu6_s8(out.ptr, ctypes.c_uint16(x.size))
            return None, out, inputs

        out = GuardedBuffer(None, size, fill)
        src = const("input", x, np.int8)
        work = np.zeros(max(scratch, 1), dtype=np.uint8)
        ctx = Context(work.ctypes.data if scratch else None, scratch)
        fn = getattr(self.dll, function)
        if function in ("arm_convolve_wrapper_s8", "arm_depthwise_conv_wrapper_s8"):
            conv, in_dims, f_dims, out_dims = conv_structs(function, p)
            quant = PerChannelQuant(
                i32(const("multiplier", arrays["multiplier"], np.int32)),
                i32(const("shift", arrays["shift"], np.int32)),
            )
            bias_dims = Dims(1, 1, 1, out_dims.c)
            status = fn(
                ctypes.byref(ctx),
                ctypes.byref(conv),
                ctypes.byref(quant),
                ctypes.byref(in_dims),
                src,
                ctypes.byref(f_dims),
                const("weights", arrays["weights"], np.int8),
                ctypes.byref(bias_dims),
                const("bias", arrays["bias"], np.int32),
                ctypes.byref(out_dims),
                out.ptr,
            )
        elif function.startswith("arm_fully_connected"):
            fc = FcParams(
                _i(p, "input_offset"), _i(p, "filter_offset"), _i(p, "output_offset"), _act(p)
            )
            depth, outputs = _i(p, "accum_depth"), _i(p, "output_depth")
            if function == "arm_fully_connected_s8":
                quant: ctypes.Structure = PerTensorQuant(_i(p, "multiplier"), _i(p, "shift"))
            else:
                quant = PerChannelQuant(
                    i32(const("multiplier", arrays["multiplier"], np.int32)),
                    i32(const("shift", arrays["shift"], np.int32)),
                )
            status = fn(
                ctypes.byref(ctx),
                ctypes.byref(fc),
                ctypes.byref(quant),
                ctypes.byref(Dims(_i(p, "input_n"), 1, 1, depth)),
                src,
                ctypes.byref(Dims(depth, 1, 1, outputs)),
                const("weights", arrays["weights"], np.int8),
                ctypes.byref(Dims(1, 1, 1, outputs)),
                const("bias", arrays["bias"], np.int32),
                ctypes.byref(Dims(_i(p, "input_n"), 1, 1, outputs)),
                out.ptr,
            )
        elif function in ("arm_max_pool_s8", "arm_avgpool_s8"):
            pool = PoolParams(_tile(p, "stride"), _tile(p, "padding"), _act(p))
            n, c = _i(p, "input_n"), _i(p, "input_c")
            status = fn(
                ctypes.byref(ctx),
                ctypes.byref(pool),
                ctypes.byref(Dims(n, _i(p, "input_h"), _i(p, "input_w"), c)),
                src,
                ctypes.byref(Dims(1, _i(p, "filter_h"), _i(p, "filter_w"), 1)),
                ctypes.byref(Dims(n, _i(p, "output_h"), _i(p, "output_w"), c)),
                out.ptr,
            )
        elif function == "arm_softmax_s8":
            fn(
                src,
                ctypes.c_int32(_i(p, "num_rows")),
                ctypes.c_int32(_i(p, "row_size")),
                ctypes.c_int32(_i(p, "mult")),
                ctypes.c_int32(_i(p, "shift")),
                ctypes.c_int32(_i(p, "diff_min")),
                out.ptr,
            )
            status = None
        else:
            raise KeyError(f"no s8 kernel {function}")
        return status, out, inputs
