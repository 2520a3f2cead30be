"""The one reader of built firmware images (ELF or Intel HEX), on pyelftools and intelhex.

- ``check_elf(path)``: the image exists and is a 32-bit little-endian Arm ELF
  (emulators report a bad image late or not at all, so runners check first);
- ``load_segments(path)``: what ends up in flash, as (load address, bytes),
  from an ELF's program headers or an Intel HEX file's data records;
- ``SymbolTable.from_elf(path)``: function names for addresses, and the
  linker-script symbols, for fault reports; ``symbolized`` applies it to a
  DeviceFault. Any ELF works here (the host builds of the tests are 64-bit),
  and no toolchain is needed on the machine that reads the report.

Every problem with the file is one ConfigError line naming it and the fix.
"""

from __future__ import annotations

import bisect
import io
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import Symbol as ELFSymbol
from elftools.elf.sections import SymbolTableSection
from intelhex import IntelHex, IntelHexError

from hil.errors import ConfigError, HilError

ELF_HINT = "pass the firmware.elf from hil build"
HEX_HINT = "regenerate the file (arm-none-eabi-objcopy -O ihex firmware.elf)"


class Segment(NamedTuple):
    """Bytes the image puts in memory at ``address`` (a plain (address, data) pair)."""

    address: int
    data: bytes


# -- opening ----------------------------------------------------------------------------


def require_image(path: Path) -> None:
    """ConfigError unless ``path`` is a file."""
    if not Path(path).is_file():
        raise ConfigError(
            f"firmware image {path} does not exist", hint="build it first (hil build)"
        )


@contextmanager
def _open_elf(path: Path, *, arm: bool = True, hint: str = ELF_HINT) -> Iterator[ELFFile]:
    """The parsed ELF at ``path``: ConfigError if it is missing, not an ELF (with ``arm``: not
    a 32-bit little-endian Arm one), or its headers point outside the file."""
    require_image(path)
    with open(path, "rb") as stream:
        try:
            elf: ELFFile | None = ELFFile(stream)
        except ELFError:
            elf = None
        if elf is None or (arm and not _is_arm32(elf)):
            what = "a 32-bit Arm ELF" if arm else "an ELF"
            raise ConfigError(f"{path} is not {what} image", hint=hint)
        try:
            yield elf
        except ELFError as exc:
            raise ConfigError(f"{path} is a damaged ELF image: {exc}", hint=hint) from None


def _is_arm32(elf: ELFFile) -> bool:
    return elf.elfclass == 32 and elf.little_endian and elf["e_machine"] == "EM_ARM"


def check_elf(path: Path) -> None:
    """ConfigError unless ``path`` is a 32-bit little-endian Arm ELF image."""
    with _open_elf(Path(path)):
        pass


# -- what ends up in flash ----------------------------------------------------------------


def load_segments(path: Path) -> list[Segment]:
    """(load address, bytes) of what ends up in flash, from an ELF or Intel HEX image."""
    path = Path(path)
    if path.suffix.lower() == ".hex":
        return _hex_segments(path)
    with _open_elf(path, hint=f"{ELF_HINT} (or an Intel .hex)") as elf:
        # PT_LOAD segments with file data, at their load (physical) address, as
        # pyOCD writes them: .data's initial values sit in flash after .text.
        return [
            Segment(segment["p_paddr"], segment.data())
            for segment in elf.iter_segments()
            if segment["p_type"] == "PT_LOAD" and segment["p_filesz"]
        ]


def _hex_segments(path: Path) -> list[Segment]:
    """An Intel HEX file's data records, at the bases its 02/04 records set, in contiguous runs."""
    require_image(path)
    # Surrounding blanks are not part of a record; stripping keeps the line numbers.
    lines = path.read_bytes().decode(errors="replace").splitlines()
    text = "\n".join(line.strip() for line in lines)
    contents = IntelHex()
    try:
        contents.loadhex(io.StringIO(text))
    except IntelHexError as exc:
        line = getattr(exc, "line", None)
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where} is not a valid Intel HEX record", hint=HEX_HINT) from None
    return [
        Segment(start, contents.tobinstr(start=start, end=stop - 1))
        for start, stop in contents.segments()
    ]


# -- symbols ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    size: int


class SymbolTable:
    """Function symbols of one ELF, looked up by address, and its other symbols by name."""

    def __init__(self, symbols: list[Symbol], others: dict[str, int] | None = None) -> None:
        self._symbols = sorted(symbols, key=lambda s: s.address)
        self._starts = [s.address for s in self._symbols]
        self._others = others or {}

    @classmethod
    def from_elf(cls, path: Path) -> "SymbolTable":
        """The symbols of any ELF (32- or 64-bit); ConfigError if it is missing or not an ELF."""
        functions: list[Symbol] = []
        others: dict[str, int] = {}
        with _open_elf(Path(path), arm=False) as elf:
            for sym in _named_symbols(elf):
                if sym["st_info"]["type"] == "STT_FUNC":
                    functions.append(Symbol(sym.name, sym["st_value"] & ~1, sym["st_size"]))
                else:
                    others[sym.name] = sym["st_value"]
        return cls(functions, others)

    def address_of(self, name: str) -> int | None:
        """A non-function symbol's value (linker-script symbols such as __stack_guard_start)."""
        return self._others.get(name)

    def stack_guard(self) -> tuple[int, int] | None:
        """The no-access region below the stack (mps2 port), if the image has one."""
        lo, hi = self.address_of("__stack_guard_start"), self.address_of("__stack_guard_end")
        return (lo, hi) if lo is not None and hi is not None else None

    def lookup(self, address: int) -> str | None:
        """``name+0xoff`` of the function containing ``address`` (Thumb bit ignored)."""
        address &= ~1
        i = bisect.bisect_right(self._starts, address) - 1
        if i < 0:
            return None
        s = self._symbols[i]
        if address >= s.address + max(s.size, 1):
            return None
        off = address - s.address
        return s.name if off == 0 else f"{s.name}+0x{off:x}"

    def __len__(self) -> int:
        return len(self._symbols)


def _named_symbols(elf: ELFFile) -> Iterator[ELFSymbol]:
    """The symbol table's entries that have a name and a value (dynamic symbols aside)."""
    for section in elf.iter_sections():
        if section["sh_type"] == "SHT_SYMTAB" and isinstance(section, SymbolTableSection):
            for sym in section.iter_symbols():
                if sym["st_value"] != 0 and sym["st_name"] != 0:
                    yield sym


@contextmanager
def symbolized(elf: Path | None) -> Iterator[None]:
    """Re-raise a DeviceFault from the block with function names from ``elf``."""
    from hil.protocol.fault import DeviceFault

    try:
        yield
    except DeviceFault as exc:
        if elf is None or not Path(elf).is_file():
            raise
        try:
            table = SymbolTable.from_elf(Path(elf))
        except (HilError, OSError, ELFError, ValueError, IndexError):
            raise exc from None  # a broken ELF must not hide the fault itself
        named = DeviceFault(exc.fault, symbols=table)
        named.results = exc.results
        raise named from None
