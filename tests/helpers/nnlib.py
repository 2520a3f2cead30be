"""Build firmware/nn for the host and call its kernels through ctypes.

Reusable glue for tests and tools that check the portable kernels against
golden vectors:

    lib = NNLib(build_library(tmp_dir, pool="dsp"))
    failures = check_folder(lib, conformance_root() / "cmsis-nn-q7" / name)

Every call runs on buffers framed by guard zones and filled with a byte
pattern, so a kernel that writes out of bounds, skips an output element or
touches a const input fails as surely as one that computes a wrong value.
Run as a script to check whole golden-vector folders in a separate process
(used for the sanitizer build, whose runtime must be preloaded).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from hil.reference.spec import KERNEL_SPECS, KernelSpec

REPO = Path(__file__).resolve().parents[2]
NN_DIR = REPO / "firmware" / "nn"
INCLUDE_DIR = NN_DIR / "include"
SRC_DIR = NN_DIR / "src"
ACLE_MODEL_DIR = Path(__file__).resolve().parent / "acle_model"


GUARD = 64
FILLS = (0xA5, 0x5A)
POOL_DEFINES = {"dsp": "HIL_NN_POOL_DSP", "plain": "HIL_NN_POOL_PLAIN"}
SANITIZE_FLAGS = (
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=undefined",
    "-fno-omit-frame-pointer",
)


def sources() -> list[Path]:
    return sorted(SRC_DIR.glob("*.c"))


def conformance_root() -> Path | None:
    """``../shared/conformance`` next to the repository, if present."""
    path = REPO.parent / "shared" / "conformance"
    return path if path.is_dir() else None


def build_library(
    out_dir: Path,
    *,
    pool: str = "dsp",
    defines: Sequence[str] = (),
    extra_flags: Sequence[str] = (),
    simd_model: bool = False,
    cc: str = "gcc",
    name: str | None = None,
) -> Path:
    """Compile all kernels into a shared library; returns its path.

    ``pool`` forces the pooling path ("dsp" or "plain"). ``simd_model``
    compiles the cores' SMLAD/SXTB16 code paths against C models of the
    ACLE intrinsics (tests/helpers/acle_model) so the host runs them too.
    """
    flags = [
        "-std=c99",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-fPIC",
        "-shared",
        f"-I{INCLUDE_DIR}",
        f"-D{POOL_DEFINES[pool]}",
    ]
    if simd_model:
        flags += [f"-I{ACLE_MODEL_DIR}", "-D__ARM_FEATURE_SIMD32=1"]
    flags += [f"-D{d}" for d in defines] + list(extra_flags)
    out = Path(out_dir) / (name or f"libhilnn_{pool}.so")
    cmd = [cc, *flags, *map(str, sources()), "-o", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"host build failed: {' '.join(cmd)}\n{result.stderr}")
    return out


# Scratch buffers per function: (C name, insert before this argument or None
# to append, documented size in bytes from arm_nnfunctions.h).
def _conv_scratch(p: Mapping[str, int]) -> int:
    kx = p.get("dim_kernel_x", p.get("dim_kernel"))
    ky = p.get("dim_kernel_y", p.get("dim_kernel"))
    return 2 * 2 * p["ch_im_in"] * kx * ky


_CONV_SCRATCH = (("bufferA", None, _conv_scratch), ("bufferB", None, lambda p: 0))
SCRATCH: dict[str, tuple[tuple[str, str | None, Callable[[Mapping[str, int]], int]], ...]] = {
    "arm_convolve_HWC_q7_basic": _CONV_SCRATCH,
    "arm_convolve_HWC_q7_fast": _CONV_SCRATCH,
    "arm_convolve_HWC_q7_RGB": (
        ("bufferA", None, lambda p: 2 * 2 * 3 * p["dim_kernel"] ** 2),
        ("bufferB", None, lambda p: 0),
    ),
    "arm_convolve_HWC_q7_basic_nonsquare": _CONV_SCRATCH,
    "arm_convolve_HWC_q7_fast_nonsquare": _CONV_SCRATCH,
    "arm_convolve_1x1_HWC_q7_fast_nonsquare": (
        ("bufferA", None, lambda p: 2 * 2 * p["ch_im_in"]),
        ("bufferB", None, lambda p: 0),
    ),
    "arm_depthwise_separable_conv_HWC_q7": _CONV_SCRATCH,
    "arm_depthwise_separable_conv_HWC_q7_nonsquare": _CONV_SCRATCH,
    "arm_maxpool_q7_HWC": (("bufferA", "Im_out", lambda p: 0),),
    "arm_avepool_q7_HWC": (("bufferA", "Im_out", lambda p: 2 * p["dim_im_out"] * p["ch_im_in"]),),
    "arm_fully_connected_q7": (("vec_buffer", None, lambda p: 2 * p["dim_vec"]),),
    "arm_fully_connected_q7_opt": (("vec_buffer", None, lambda p: 2 * p["dim_vec"]),),
}


class GuardedBuffer:
    """A byte buffer with guard zones either side, to catch stray writes."""

    def __init__(self, data: np.ndarray | None, size: int, fill: int) -> None:
        self.size = size
        self.fill = fill
        self.raw = np.full(size + 2 * GUARD, fill, dtype=np.uint8)
        if data is not None:
            self.raw[GUARD : GUARD + size] = np.asarray(data).view(np.uint8)
        self.ptr = ctypes.c_void_p(self.raw.ctypes.data + GUARD)

    @property
    def body(self) -> np.ndarray:
        return self.raw[GUARD : GUARD + self.size].view(np.int8)

    def guards_intact(self) -> bool:
        return bool(
            (self.raw[:GUARD] == self.fill).all()
            and (self.raw[GUARD + self.size :] == self.fill).all()
        )


@dataclass
class CallResult:
    status: int | None
    buffers: dict[str, GuardedBuffer]


class NNLib:
    """The kernels of one host build, callable by CMSIS-NN function name."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._dll = ctypes.CDLL(str(self.path))

    def _function(self, spec: KernelSpec) -> ctypes._CFuncPtr:
        fn = getattr(self._dll, spec.name)
        fn.restype = ctypes.c_int if spec.returns_status else None
        return fn

    def call(
        self,
        name: str,
        arrays: Mapping[str, np.ndarray],
        scalars: Mapping[str, int],
        *,
        fill: int = FILLS[0],
        out_array: str | None = None,
    ) -> CallResult:
        """Call ``name`` with pointer ``arrays`` and ``scalars``.

        The output buffer is sized from the spec and pre-filled with
        ``fill``; ``out_array`` names an entry of ``arrays`` to use as the
        output buffer instead (in-place calls such as softmax on its input).
        """
        spec = KERNEL_SPECS[name]
        buffers: dict[str, GuardedBuffer] = {}
        for key, data in arrays.items():
            buffers[key] = GuardedBuffer(data, int(np.asarray(data).size), fill)
        if spec.output not in buffers:
            if out_array is not None:
                buffers[spec.output] = buffers[out_array]
            else:
                buffers[spec.output] = GuardedBuffer(None, spec.output_size(scalars), fill)

        args: list[object] = []
        scratch = SCRATCH.get(name, ())
        pointers = {spec.input, spec.output, spec.weights, spec.bias}
        for arg in spec.args:
            for s_name, before, size in scratch:
                if before == arg:
                    args.append(self._scratch(buffers, s_name, size(scalars), fill))
            if arg in pointers:
                args.append(buffers[arg].ptr)
            elif arg == "type":
                args.append(ctypes.c_int(int(scalars[arg])))
            else:
                args.append(ctypes.c_uint16(int(scalars[arg])))
        for s_name, before, size in scratch:
            if before is None:
                args.append(self._scratch(buffers, s_name, size(scalars), fill))
        status = self._function(spec)(*args)
        return CallResult(status=status, buffers=buffers)

    @staticmethod
    def _scratch(
        buffers: dict[str, GuardedBuffer], name: str, size: int, fill: int
    ) -> ctypes.c_void_p:
        buffers[name] = GuardedBuffer(None, size, fill)
        return buffers[name].ptr


def _scalars(spec: KernelSpec, case: Mapping[str, np.ndarray]) -> dict[str, int]:
    return {k: int(case[k]) for k in spec.scalars}


def check_case(lib: NNLib, path: Path, *, check_work_area: bool = True) -> list[str]:
    """Problems found running one golden-vector file (empty list: pass).

    Checks status 0, the output (and the in-place result), every guard zone,
    that const inputs are unchanged, and, with ``check_work_area``, what the
    pooling functions leave in Im_in (``Im_in__out``).
    """
    case = dict(np.load(path))
    name = str(case["__function__"])
    spec = KERNEL_SPECS[name]
    scalars = _scalars(spec, case)
    pointers = [a for a in spec.args if a not in spec.scalars and a != spec.output]
    if spec.in_place:
        pointers = [spec.input]
    problems = []
    for fill in FILLS:
        arrays = {k: case[k] for k in pointers}
        result = lib.call(name, arrays, scalars, fill=fill)
        if spec.returns_status and result.status != 0:
            problems.append(f"fill {fill:#x}: status {result.status}")
        got = result.buffers[spec.output].body
        want = case[spec.output_key]
        if not np.array_equal(got, want):
            bad = np.flatnonzero(got != want)
            problems.append(
                f"fill {fill:#x}: {spec.output_key} differs at {bad.size} of "
                f"{want.size} elements, first at {bad[0]} "
                f"(got {got[bad[0]]}, want {want[bad[0]]})"
            )
        for key, buf in result.buffers.items():
            if not buf.guards_intact():
                problems.append(f"fill {fill:#x}: wrote outside {key}")
        for key in pointers:
            if spec.in_place or key == spec.output:
                continue
            expected = case[f"{key}__out"] if f"{key}__out" in case else case[key]
            if key == spec.input and f"{key}__out" in case and not check_work_area:
                continue
            if not np.array_equal(result.buffers[key].body, expected):
                problems.append(f"fill {fill:#x}: {key} left in an unexpected state")
    return problems


def check_folder(lib: NNLib, folder: Path, **kwargs) -> dict[str, list[str]]:
    """{case file name: problems} for every failing case in ``folder``."""
    failures = {}
    for path in sorted(Path(folder).glob("*.npz")):
        problems = check_case(lib, path, **kwargs)
        if problems:
            failures[path.name] = problems
    return failures


def sanitizer_runtime(cc: str = "gcc") -> list[str]:
    """Shared runtimes a ctypes process must preload for a sanitized build."""
    libs = []
    for lib in ("libasan.so", "libubsan.so"):
        out = subprocess.run([cc, f"-print-file-name={lib}"], capture_output=True, text=True)
        path = out.stdout.strip()
        if out.returncode != 0 or not os.path.isabs(path):
            return []
        libs.append(path)
    return libs


def run_isolated(
    lib_path: Path, folders: Iterable[Path], *, preload: Sequence[str] = ()
) -> subprocess.CompletedProcess:
    """Run ``check_folder`` in a child process (sanitizer runtimes preloaded)."""
    env = dict(os.environ)
    if preload:
        env["LD_PRELOAD"] = " ".join(preload)
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0:exitcode=86"
        env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1:exitcode=87"
    cmd = [sys.executable, str(Path(__file__).resolve()), str(lib_path), *map(str, folders)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check a host build of firmware/nn against golden-vector folders."
    )
    parser.add_argument("library", type=Path)
    parser.add_argument("folders", type=Path, nargs="+")
    args = parser.parse_args(argv)
    lib = NNLib(args.library)
    total = 0
    for folder in args.folders:
        for case, problems in check_folder(lib, folder).items():
            total += 1
            print(f"{folder.name}/{case}: {'; '.join(problems)}")
    print(f"{total} failing case(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
