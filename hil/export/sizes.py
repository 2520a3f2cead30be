"""What an export costs on a board: the flash and RAM of each file it compiles to,
and the RAM the caller provides (scratch, input, output).

Each C file of the export is compiled on its own for the board's core with the
flags a firmware would use (-O2, one section per function and per table), and
the allocated sections of each object are summed by kind. Objects are not
linked: the figures are what the module brings, before the linker's
--gc-sections drops what a program does not call. Without the cross toolchain
only the figures known from the model are given (weights, scratch, buffers).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from hil.config.boards import Board
from hil.errors import BuildError
from hil.export.files import Export
from hil.export.kernels import KERNELS_DIR
from hil.firmware.toolchain import INSTALL_HINT, Toolchain, find_toolchain

SIZE_CFLAGS = ("-O2", "-ffunction-sections", "-fdata-sections", "-std=gnu11")
SECTION_KINDS = ("text", "rodata", "data", "bss")
_ERROR_LINES = 3  # of the compiler's output, in the note when a file does not compile


@dataclass(frozen=True)
class ObjectSizes:
    """Allocated bytes of one compiled file, by section kind."""

    source: str  # the file's path in the export
    text: int  # code (.text*)
    rodata: int  # constants: the weights, strings (.rodata*)
    data: int  # initialised variables: in flash and copied to RAM (.data*)
    bss: int  # zeroed variables (.bss*)

    @property
    def flash(self) -> int:
        return self.text + self.rodata + self.data

    @property
    def ram(self) -> int:
        return self.data + self.bss


@dataclass(frozen=True)
class SizeReport:
    """An export's sizes on one board; ``objects`` is empty when nothing was compiled,
    and ``note`` then says why."""

    board: str
    cflags: tuple[str, ...]
    weights: int  # weight and bias bytes (const, in flash)
    scratch: int  # NAME_SCRATCH_SIZE: RAM the caller provides
    input: int  # NAME_INPUT_SIZE
    output: int  # NAME_OUTPUT_SIZE
    objects: tuple[ObjectSizes, ...] = ()
    note: str | None = None

    @property
    def measured(self) -> bool:
        return bool(self.objects)

    def total(self, kind: str) -> int:
        """The sum over every object of one section kind, or of "flash" or "ram"."""
        return sum(getattr(o, kind) for o in self.objects)

    @property
    def caller_ram(self) -> int:
        """RAM the caller provides: the scratch and the input and output buffers."""
        return self.scratch + self.input + self.output

    def object(self, source: str) -> ObjectSizes:
        return next(o for o in self.objects if o.source == source)


def section_kind(section) -> str | None:
    """The kind of an ELF section by its flags (None: not loaded on the target)."""
    flags = section["sh_flags"]
    if not flags & SH_FLAGS.SHF_ALLOC:
        return None
    if section["sh_type"] == "SHT_NOBITS":
        return "bss"
    if flags & SH_FLAGS.SHF_EXECINSTR:
        return "text"
    if flags & SH_FLAGS.SHF_WRITE:
        return "data"
    return "rodata"


def object_sizes(source: str, obj: Path) -> ObjectSizes:
    totals = dict.fromkeys(SECTION_KINDS, 0)
    with open(obj, "rb") as f:
        for section in ELFFile(f).iter_sections():
            kind = section_kind(section)
            if kind is not None:
                totals[kind] += int(section["sh_size"])
    return ObjectSizes(source, **totals)


def measure_export(
    export: Export,
    board: Board,
    include_dirs: Sequence[Path] = (),
    *,
    tools: Toolchain | None = None,
) -> SizeReport:
    """Compile ``export``'s C files for ``board`` and size them. ``include_dirs``:
    where a cmsis-nn export finds the user's CMSIS-NN headers."""
    known = export.sizes
    cflags = (*board.cpu.gcc_flags(), *SIZE_CFLAGS)
    report = SizeReport(
        board.id, cflags, known["weights"], known["scratch"], known["input"], known["output"]
    )
    if tools is None:
        try:
            tools = find_toolchain()
        except BuildError as exc:
            return replace(report, note=f"{exc.message}; {INSTALL_HINT}")
    sources = export.module_sources + export.kernel_sources
    with tempfile.TemporaryDirectory(prefix="hil-export-sizes-") as tmp:
        root = Path(tmp)
        for relpath, data in export.files.items():
            path = root / "src" / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        # Relative to the copy (the compiler runs there); the user's own, absolute.
        includes = [Path("."), Path(KERNELS_DIR) / "include", *(d.resolve() for d in include_dirs)]
        objects = []
        for i, source in enumerate(sources):
            obj = root / f"{i}.o"
            problem = _compile(tools, cflags, includes, root / "src", source, obj)
            if problem:
                return replace(report, note=f"{tools.gcc.name} failed on {source}: {problem}")
            objects.append(object_sizes(source, obj))
    return replace(report, objects=tuple(objects))


def _compile(
    tools: Toolchain,
    cflags: Sequence[str],
    includes: Sequence[Path],
    src_dir: Path,
    source: str,
    obj: Path,
) -> str | None:
    """None, or the first lines of the compiler's complaint. Run in ``src_dir`` so
    that it names the export's files as the user sees them, not the temporary copy."""
    cmd = [str(tools.gcc), *cflags, *(f"-I{d}" for d in includes), "-c", source, "-o", str(obj)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=src_dir)
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.splitlines() if "error" in line]
    lines = lines or done.stderr.splitlines() or [f"exit code {done.returncode}"]
    return " / ".join(line.strip() for line in lines[:_ERROR_LINES])
