"""Cross-compile and link a firmware image for one board.

Sources: the application (firmware/src), the kernel backend (our portable
firmware/nn or a user's genuine CMSIS-NN), the board family's port, the driver
ports it uses and the architecture port it builds on (as their port.toml files
say, hil.firmware.ports)
and the generated model tables. Objects are cached by the hash of their preprocessed
text plus code-generation flags, so switching models recompiles only the
generated files (and whatever expands HIL_BUILD_ID).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from hil.config.boards import Board
from hil.datadirs import firmware_root
from hil.errors import BuildError
from hil.firmware.codegen import ModelSources
from hil.firmware.nn_backend import (
    NnBackend,
    genuine_backend,
    genuine_s8_backend,
    portable_backend,
    portable_s8_backend,
)
from hil.firmware.ports import ports_for_board
from hil.firmware.toolchain import Toolchain, find_toolchain, section_sizes
from hil.firmware.watchdog import watchdog_define
from hil.outputs import check_output_dir

Progress = Callable[[str], None]

COMMON_CFLAGS = (
    "-O2",
    "-g",
    "-std=gnu11",
    "-ffunction-sections",
    "-fdata-sections",
    "-Wall",
    "-Wextra",
)
LINK_FLAGS = (
    "-nostartfiles",
    "--specs=nano.specs",
    "--specs=nosys.specs",
    "-Wl,--gc-sections",
    "-Wl,--no-warn-rwx-segments",
)
ERROR_TAIL_LINES = 25
STACK_GUARD_BYTES = 1024  # the port's no-access region below the stack

# Kernel families: one per image (the libraries' headers share file names).
FAMILIES = ("q7", "s8")
ROUNDINGS = ("double", "single")  # s8 requantisation; "double" unless asked
Q7_ONLY_SOURCES = ("kernel.c", "kcall.c", "kcheck.c")  # firmware/src's q7 kernel calls
S8_APP_DIR = "s8"  # firmware/src/s8: the s8 kernel calls and the empty network
S8_NO_MODEL = "no_model.c"  # ... the empty network, for kernels-only s8 images
# Cores whose CMSIS-NN (>= 4.0) builds take the DSP (ARM_MATH_DSP) and Helium
# (ARM_MATH_MVEI) paths, as its arm_nn_math_types.h derives them from
# __ARM_FEATURE_DSP and __ARM_FEATURE_MVE.
DSP_CORES = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85")
MVE_CORES = ("cortex-m55", "cortex-m85")


@dataclass(frozen=True)
class FirmwareImage:
    elf: Path
    bin: Path
    flash_bytes: int  # text + data (what is loaded into flash)
    ram_bytes: int  # data + bss (static RAM, without the stack)
    build_id: str
    backend: str  # "portable" | "cmsis-nn" ("none" when built with_nn=False)
    board_id: str
    variant: str  # "dsp" | "plain"
    compiled: tuple[Path, ...] = ()  # sources compiled this time; the rest came from the cache
    family: str = "q7"  # "q7" | "s8"
    rounding: str = "none"  # s8: "double" | "single"; q7: "none"


@dataclass
class _Plan:
    """Everything that determines the image, so it can be hashed."""

    board: Board
    sources: list[Path]
    quiet_sources: set[Path]  # third-party code: compiled with -w
    include_dirs: list[Path]
    cflags: list[str]
    defines: dict[str, str]
    linker_script: Path
    headers: list[Path] = field(default_factory=list)


def default_cache_dir() -> Path:
    env = os.environ.get("HIL_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hil" / "objects"


def check_cache_dir(cache_dir: Path | None = None) -> None:
    """Refuse an object cache that cannot be written, naming the setting that chose it."""
    if cache_dir is not None:
        check_output_dir(cache_dir, "the object cache")
        return
    if os.environ.get("HIL_CACHE_DIR"):
        name = "$HIL_CACHE_DIR"
    elif os.environ.get("XDG_CACHE_HOME"):
        name = "the object cache in $XDG_CACHE_HOME"
    else:
        name = "the object cache"
    check_output_dir(
        default_cache_dir(),
        name,
        hint="point $HIL_CACHE_DIR (or $XDG_CACHE_HOME) at a folder you can write",
    )


def build_firmware(
    board: Board,
    model: ModelSources | None,
    out_dir: Path,
    *,
    cmsis_nn: Path | None = None,
    cmsis_core: Sequence[Path] | None = None,
    defines: dict[str, str] | None = None,
    progress: Progress | None = None,
    app_dir: Path | None = None,
    with_nn: bool = True,
    cache_dir: Path | None = None,
    family: str = "q7",
    rounding: str = "double",
) -> FirmwareImage:
    """Build ``out_dir/firmware.elf`` (and .bin) for ``board``.

    ``model`` is the generated model: the exported module and its glue (None: no model).
    ``cmsis_nn`` (or $HIL_CMSIS_NN) selects a genuine CMSIS-NN checkout;
    ``cmsis_core`` (or $HIL_CMSIS_CORE) its CMSIS Core include dirs when it
    is a standalone CMSIS-NN. ``app_dir`` replaces firmware/src (test
    firmware); ``with_nn=False`` leaves the kernels out.

    ``family`` "s8" builds the int8 kernels (firmware/nn/s8, or a genuine
    CMSIS-NN >= 4.0) with the s8 kernel calls of firmware/src/s8 and the s8
    model's export (or, with ``model`` None, an empty network); ``rounding``
    "single" builds them with CMSIS_NN_USE_SINGLE_ROUNDING.
    """
    say = progress or (lambda _msg: None)
    check_cache_dir(cache_dir)
    tools = find_toolchain()
    out_dir.mkdir(parents=True, exist_ok=True)
    _check_family(family, rounding, model)
    backend = _backend(board, cmsis_nn, cmsis_core, family) if with_nn else None
    plan = _plan(board, model, backend, defines or {}, app_dir, family, rounding)
    build_id = _build_id(plan, tools)
    plan.defines["HIL_BUILD_ID"] = f'"{build_id}"'

    say(f"compiling {len(plan.sources)} sources for {board.id}")
    objects, compiled = _compile_all(
        plan, tools, out_dir / "obj", cache_dir or default_cache_dir(), say
    )
    elf = out_dir / "firmware.elf"
    _link(plan, tools, objects, out_dir, elf)
    text, data, bss = section_sizes(tools, elf)
    _check_fits(board, text + data, data + bss)
    binary = out_dir / "firmware.bin"
    _run([str(tools.objcopy), "-O", "binary", str(elf), str(binary)], "objcopy")
    say(f"linked {elf} (flash {text + data} B, RAM {data + bss} B)")
    return FirmwareImage(
        elf=elf,
        bin=binary,
        flash_bytes=text + data,
        ram_bytes=data + bss,
        build_id=build_id,
        backend=backend.name if backend else "none",
        board_id=board.id,
        variant=board.variant,
        compiled=compiled,
        family=family,
        rounding=rounding if family == "s8" else "none",
    )


def _check_family(family: str, rounding: str, model: ModelSources | None) -> None:
    if family not in FAMILIES:
        raise BuildError(
            f"unknown kernel family {family!r}", hint=f"use one of: {', '.join(FAMILIES)}"
        )
    if rounding not in ROUNDINGS:
        raise BuildError(
            f"unknown rounding {rounding!r}", hint=f"use one of: {', '.join(ROUNDINGS)}"
        )


def s8_defines(board: Board, rounding: str = "double") -> dict[str, str]:
    """The defines of an s8 image: the family, the core's kernel path, the rounding."""
    defines = {"HIL_NN_FAMILY_S8": "1"}
    mcpu = board.cpu.mcpu
    core = mcpu.split("+")[0]
    if core in DSP_CORES and "+nodsp" not in mcpu:
        defines["ARM_MATH_DSP"] = "1"
    if core in MVE_CORES and "+nomve" not in mcpu:
        defines["ARM_MATH_MVEI"] = "1"
    if rounding == "single":
        defines["CMSIS_NN_USE_SINGLE_ROUNDING"] = "1"
    return defines


def _cmsis_nn_root(cmsis_nn: Path | None) -> Path | None:
    """--cmsis-nn, else $HIL_CMSIS_NN, else None (the portable kernels)."""
    return cmsis_nn or (
        Path(os.environ["HIL_CMSIS_NN"]) if os.environ.get("HIL_CMSIS_NN") else None
    )


def backend_name(cmsis_nn: Path | None) -> str:
    """The backend a build with ``cmsis_nn`` uses, so the model is exported for it."""
    return "portable" if _cmsis_nn_root(cmsis_nn) is None else "cmsis-nn"


def _backend(
    board: Board, cmsis_nn: Path | None, cmsis_core: Sequence[Path] | None, family: str = "q7"
) -> NnBackend:
    root = _cmsis_nn_root(cmsis_nn)
    if root is None:
        fw = firmware_root()
        return portable_s8_backend(fw) if family == "s8" else portable_backend(fw)
    if cmsis_core is None and os.environ.get("HIL_CMSIS_CORE"):
        cmsis_core = [Path(p) for p in os.environ["HIL_CMSIS_CORE"].split(os.pathsep) if p]
    if family == "s8":
        return genuine_s8_backend(root, cmsis_core)
    return genuine_backend(root, cmsis_core)


def _c_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.c")) if directory.is_dir() else []


def _plan(
    board: Board,
    model: ModelSources | None,
    backend: NnBackend | None,
    user_defines: dict[str, str],
    app_dir: Path | None,
    family: str = "q7",
    rounding: str = "double",
) -> _Plan:
    fw = firmware_root()
    port_dir = fw / "port" / board.family
    if not port_dir.is_dir():
        raise BuildError(
            f"no firmware port for family {board.family!r} in {port_dir}",
            hint="add firmware/port/<family>/ implementing hal.h (firmware/port/README.md)",
        )
    ports = ports_for_board(board, fw)
    app = app_dir or fw / "src"
    # The order fixes the link order, hence the image: application, board port, its driver
    # ports, architecture port.
    app_sources = _c_files(app)
    if family == "s8":
        app_sources = [p for p in app_sources if p.name not in Q7_ONLY_SOURCES]
        # The empty network stands in only when no model is built in.
        app_sources += [
            p for p in _c_files(app / S8_APP_DIR) if model is None or p.name != S8_NO_MODEL
        ]
    sources = app_sources + ports.source_files()
    drivers = [d.directory for d in ports.drivers]
    include_dirs = [fw / "include", ports.board.directory, *drivers, app]
    if family == "s8":
        include_dirs.append(app / S8_APP_DIR)
    include_dirs.append(ports.arch.directory)
    quiet: set[Path] = set()
    if model is not None:
        missing = [p for p in (*model.sources, *model.kernel_sources) if not p.is_file()]
        if missing:
            raise BuildError(
                f"generated model source {missing[0]} does not exist",
                hint="generate the model sources first (hil.firmware.codegen)",
            )
        # The module first, so its headers (and its kernels' copies) are the ones compiled.
        sources += model.sources
        include_dirs[:0] = model.include_dirs
    if backend:
        kernels = _with_export_kernels(backend, model)
        sources += kernels
        include_dirs += backend.include_dirs
        if backend.name == "cmsis-nn":
            quiet = set(kernels)
    if not _c_files(app):
        raise BuildError(f"no application sources (*.c) in {app}")

    defines = {
        "HIL_BOARD_ID": f'"{board.id}"',
        "HIL_CORE": f'"{board.core}"',
        "HIL_UART_BAUD": f"{board.baud}u",
        **watchdog_define(board),  # images with a model raise it (hil.device.connect)
    }
    if backend and backend.name == "cmsis-nn":
        defines["HIL_NN_BACKEND_CMSIS_NN"] = "1"
    if family == "s8":
        defines.update(s8_defines(board, rounding))
    defines.update(user_defines)
    headers = sorted({h for d in include_dirs if d.is_dir() for h in d.rglob("*.h")})
    return _Plan(
        board,
        sources,
        quiet,
        include_dirs,
        [*board.cpu.gcc_flags(), *COMMON_CFLAGS],
        defines,
        ports.linker_script,
        headers,
    )


def _with_export_kernels(backend: NnBackend, model: ModelSources | None) -> list[Path]:
    """The backend's sources, with the export's copy in place of each file it holds.

    The export's kernels are what a user ships, so those are compiled; the rest of
    the portable library stays for single-kernel runs. A copy that differs from the
    library it came from would mean the export is stale, so it stops the build."""
    copies = {p.name: p for p in (model.kernel_sources if model else ())}
    out = []
    for src in backend.sources:
        copy = copies.pop(src.name, None)
        if copy is None:
            out.append(src)
            continue
        if copy.read_bytes() != src.read_bytes():
            raise BuildError(
                f"{copy} differs from {src}, the kernel it was exported from",
                hint="generate the model sources again (hil.firmware.codegen)",
            )
        out.append(copy)
    return out + sorted(copies.values())


def _build_id(plan: _Plan, tools: Toolchain) -> str:
    """Hash of every source and header byte, the flags and the board."""
    h = hashlib.sha256()
    h.update(tools.version.encode())
    h.update(
        repr(
            (
                plan.board.id,
                plan.cflags,
                sorted(plan.defines.items()),
                plan.board.cpu,
                plan.board.flash,
                plan.board.ram,
                plan.board.stack_size,
            )
        ).encode()
    )
    for path in [*plan.sources, *plan.headers, plan.linker_script]:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _cpp_args(plan: _Plan) -> list[str]:
    return [
        *(f"-I{d}" for d in plan.include_dirs),
        *(f"-D{k}={v}" for k, v in sorted(plan.defines.items())),
    ]


def _compile_all(
    plan: _Plan, tools: Toolchain, obj_dir: Path, cache: Path, say: Progress
) -> tuple[list[Path], tuple[Path, ...]]:
    obj_dir.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    names = _object_names(plan.sources)

    def one(src: Path) -> tuple[Path, bool]:
        return _compile_one(plan, tools, src, obj_dir / names[src], cache, say)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(one, plan.sources))
    fresh = tuple(src for src, (_, compiled) in zip(plan.sources, results) if compiled)
    say(f"{len(fresh)} compiled, {len(results) - len(fresh)} from cache")
    return [obj for obj, _ in results], fresh


def _object_names(sources: list[Path]) -> dict[Path, str]:
    """Unique object file names even when two sources share a name."""
    names: dict[Path, str] = {}
    seen: set[str] = set()
    for src in sources:
        name = src.stem + ".o"
        if name in seen:
            name = f"{src.stem}-{hashlib.sha1(str(src).encode()).hexdigest()[:8]}.o"
        seen.add(name)
        names[src] = name
    return names


def _compile_one(
    plan: _Plan, tools: Toolchain, src: Path, obj: Path, cache: Path, say: Progress
) -> tuple[Path, bool]:
    flags = [*plan.cflags, *(["-w"] if src in plan.quiet_sources else [])]
    cpp = subprocess.run(
        [str(tools.gcc), *flags, *_cpp_args(plan), "-E", str(src)], capture_output=True, check=False
    )
    if cpp.returncode != 0:
        raise _compile_error(src, cpp.stderr.decode(errors="replace"))
    key = hashlib.sha256(b"\0".join([tools.version.encode(), " ".join(flags).encode(), cpp.stdout]))
    cached = cache / f"{key.hexdigest()}.o"
    compiled = False
    if not cached.is_file():
        fd, tmp = tempfile.mkstemp(suffix=".o", dir=cache)
        os.close(fd)
        cc = subprocess.run(
            [str(tools.gcc), *flags, *_cpp_args(plan), "-c", str(src), "-o", tmp],
            capture_output=True,
            check=False,
        )
        if cc.returncode != 0:
            os.unlink(tmp)
            raise _compile_error(src, cc.stderr.decode(errors="replace"))
        if cc.stderr.strip():
            say(f"warnings in {src}:\n{cc.stderr.decode(errors='replace').rstrip()}")
        os.replace(tmp, cached)  # atomic: parallel builds never see half an object
        compiled = True
    shutil.copyfile(cached, obj)
    return obj, compiled


def _tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-ERROR_TAIL_LINES:])


def _compile_error(src: Path, stderr: str) -> BuildError:
    return BuildError(
        f"compiling {src} failed:\n{_tail(stderr)}",
        hint="fix the source error above (the compiler's last lines are shown)",
    )


def _memory_ld(board: Board, flash_size: int, ram_size: int) -> str:
    return (
        "MEMORY\n{\n"
        f"    FLASH (rx) : ORIGIN = {board.flash.origin:#x}, LENGTH = {flash_size:#x}\n"
        f"    RAM (rwx) : ORIGIN = {board.ram.origin:#x}, LENGTH = {ram_size:#x}\n"
        "}\n"
        f"__stack_size = {board.stack_size:#x};\n"
    )


def _link_cmd(
    plan: _Plan, tools: Toolchain, objects: list[Path], ld_dir: Path, elf: Path
) -> list[str]:
    return [
        str(tools.gcc),
        *plan.cflags,
        *LINK_FLAGS,
        f"-L{ld_dir}",
        f"-T{plan.linker_script}",
        f"-Wl,-Map={elf.with_suffix('.map')}",
        "-o",
        str(elf),
        *map(str, objects),
        "-lm",
    ]


def _link(plan: _Plan, tools: Toolchain, objects: list[Path], out_dir: Path, elf: Path) -> None:
    (out_dir / "memory.ld").write_text(
        _memory_ld(plan.board, plan.board.flash.size, plan.board.ram.size)
    )
    result = subprocess.run(
        _link_cmd(plan, tools, objects, out_dir, elf), capture_output=True, text=True
    )
    if result.returncode == 0:
        return
    if "overflow" in result.stderr:
        _explain_overflow(plan, tools, objects, out_dir)
    raise BuildError(
        f"linking {elf} failed:\n{_tail(result.stderr)}",
        hint="an undefined reference means a source or library is missing from the build",
    )


def _explain_overflow(plan: _Plan, tools: Toolchain, objects: list[Path], out_dir: Path) -> None:
    """Relink with room to spare to measure what the image needs, then say so."""
    board = plan.board
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        scratch = Path(tmp)
        big_flash = min(0x10000000, 2**32 - board.flash.origin)
        big_ram = min(0x10000000, 2**32 - board.ram.origin)
        (scratch / "memory.ld").write_text(_memory_ld(board, big_flash, big_ram))
        elf = scratch / "measure.elf"
        if (
            subprocess.run(
                _link_cmd(plan, tools, objects, scratch, elf), capture_output=True
            ).returncode
            != 0
        ):
            return
        text, data, bss = section_sizes(tools, elf)
    _check_fits(board, text + data, data + bss)


def _check_fits(board: Board, flash: int, ram: int) -> None:
    if flash > board.flash.size:
        raise BuildError(
            f"image needs {flash} B of flash but {board.id} has {board.flash.size} B",
            hint="use a smaller model or a board with more flash",
        )
    need = ram + board.stack_size + STACK_GUARD_BYTES
    if need > board.ram.size:
        raise BuildError(
            f"image needs {ram} B of RAM plus {board.stack_size} B of stack but {board.id} has {board.ram.size} B",
            hint="use a smaller model (activation arena) or a board with more RAM",
        )


def _run(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"{what} failed: {_tail(result.stderr)}")
