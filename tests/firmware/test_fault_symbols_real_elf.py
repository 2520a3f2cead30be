"""Function names for FAULT frames from a real ELF: a host gcc build read by SymbolTable
and checked against nm. The fault decoding itself: tests/unit/test_protocol_fault_symbols.py."""

from __future__ import annotations

import subprocess

import pytest

from hil.firmware.image import SymbolTable


@pytest.mark.needs_gcc
def test_symbol_table_reads_a_real_elf(tmp_path):
    src = tmp_path / "f.c"
    src.write_text("int twice(int x) { return 2 * x; }\nint main(void) { return twice(1); }\n")
    exe = tmp_path / "f"
    subprocess.run(["gcc", "-O0", "-g", str(src), "-o", str(exe)], check=True)
    table = SymbolTable.from_elf(exe)
    nm = subprocess.run(["nm", str(exe)], capture_output=True, text=True).stdout
    addr = next(int(line.split()[0], 16) for line in nm.splitlines() if line.endswith(" twice"))
    assert table.lookup(addr) == "twice"
    assert table.lookup(addr + 4) == "twice+0x4"
