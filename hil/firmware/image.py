"""Function names for addresses in a firmware ELF (for fault reports).

Reads the ELF's own symbol table in Python (32- and 64-bit, little-endian),
so no toolchain is needed on the machine that reads the report.
"""

from __future__ import annotations

import bisect
import struct
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

_STT_FUNC = 2


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    size: int


class SymbolTable:
    """Function symbols of one ELF, looked up by address."""

    def __init__(self, symbols: list[Symbol], others: dict[str, int] | None = None) -> None:
        self._symbols = sorted(symbols, key=lambda s: s.address)
        self._starts = [s.address for s in self._symbols]
        self._others = others or {}

    @classmethod
    def from_elf(cls, path: Path) -> "SymbolTable":
        functions, others = [], {}
        for sym, is_func in _read_symbols(Path(path).read_bytes()):
            if is_func:
                functions.append(sym)
            else:
                others[sym.name] = sym.address
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


def _read_symbols(elf: bytes) -> Iterator[tuple[Symbol, bool]]:
    """(symbol, is a function) for every named symbol with a value."""
    if elf[:4] != b"\x7fELF" or elf[5] != 1:
        return
    is64 = elf[4] == 2
    if is64:
        (shoff,) = struct.unpack_from("<Q", elf, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
        sh_fmt, sym_fmt = "<IIQQQQIIQQ", "<IBBHQQ"
    else:
        (shoff,) = struct.unpack_from("<I", elf, 0x20)
        shentsize, shnum = struct.unpack_from("<HH", elf, 0x2E)
        sh_fmt, sym_fmt = "<IIIIIIIIII", "<IIIBBH"
    sections = [struct.unpack_from(sh_fmt, elf, shoff + i * shentsize) for i in range(shnum)]
    for sh in sections:
        if sh[1] != 2:  # SHT_SYMTAB
            continue
        offset, size, link, entsize = sh[4], sh[5], sh[6], sh[9]
        strtab = sections[link]
        str_off = strtab[4]
        for k in range(size // entsize):
            fields = struct.unpack_from(sym_fmt, elf, offset + k * entsize)
            if is64:
                name_off, info, _other, _shndx, value, sym_size = fields
            else:
                name_off, value, sym_size, info, _other, _shndx = fields
            if value == 0 or name_off == 0:
                continue
            end = elf.index(b"\0", str_off + name_off)
            name = elf[str_off + name_off : end].decode(errors="replace")
            is_func = info & 0xF == _STT_FUNC
            yield Symbol(name, value & ~1 if is_func else value, sym_size), is_func


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
        except (OSError, struct.error, ValueError, IndexError):
            raise exc from None  # a broken ELF must not hide the fault itself
        named = DeviceFault(exc.fault, symbols=table)
        named.results = exc.results
        raise named from None
