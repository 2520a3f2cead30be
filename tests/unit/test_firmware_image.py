"""The one reader of firmware images: segments from ELF and Intel HEX, symbols, bad files.
The same reader on a real cross-built image: tests/firmware/test_firmware_image_real.py."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.firmware.image import SymbolTable, check_elf, load_segments, symbolized
from hil.protocol.fault import DeviceFault, decode_fault
from hil.protocol.messages import pack

FLASH = 0x08000000


def make_elf(path: Path, segments: list[tuple[int, int, bytes, int]], machine: int = 40) -> Path:
    """A minimal 32-bit little-endian ELF: one PT_LOAD per (vaddr, paddr, bytes, memsz)."""
    phoff, phentsize = 52, 32
    body_off = phoff + phentsize * len(segments)
    header = b"\x7fELF\x01\x01\x01" + bytes(9)
    header += struct.pack(
        "<HHIIIIIHHHHHH",
        2,
        machine,
        1,
        FLASH | 1,
        phoff,
        0,
        0,
        52,
        phentsize,
        len(segments),
        40,
        0,
        0,
    )
    phdrs, body = b"", b""
    for vaddr, paddr, blob, memsz in segments:
        phdrs += struct.pack("<8I", 1, body_off + len(body), vaddr, paddr, len(blob), memsz, 6, 4)
        body += blob
    path.write_bytes(header + phdrs + body)
    return path


def hex_record(kind: int, address: int, payload: bytes) -> str:
    record = bytes([len(payload)]) + address.to_bytes(2, "big") + bytes([kind]) + payload
    return ":" + (record + bytes([-sum(record) & 0xFF])).hex().upper()


# -- segments from hand-made files ----------------------------------------------------


def test_segments_are_loaded_at_the_physical_address_and_bss_is_left_out(tmp_path):
    elf = make_elf(
        tmp_path / "fw.elf",
        [
            (FLASH, FLASH, b"code", 4),
            (0x20000000, FLASH + 4, b"data", 0x100),  # copied to RAM at boot
            (0x20000100, 0x20000100, b"", 0x400),  # .bss: nothing in the file
        ],
    )
    assert load_segments(elf) == [(FLASH, b"code"), (FLASH + 4, b"data")]


def test_hex_records_are_merged_into_runs_and_eof_ends_the_file(tmp_path):
    hex_path = tmp_path / "fw.hex"
    lines = [
        hex_record(4, 0, b"\x08\x00"),
        hex_record(0, 0x0000, b"\x01\x02"),
        hex_record(0, 0x0002, b"\x03\x04"),
        hex_record(0, 0x0100, b"\x05"),
        hex_record(5, 0, b"\x08\x00\x00\x01"),  # start address: not data
        hex_record(1, 0, b""),
        hex_record(0, 0x0200, b"\xff"),  # after the end: ignored
    ]
    hex_path.write_text("\n  ".join(lines) + "\n\n")  # stray blanks around records are fine
    assert load_segments(hex_path) == [(FLASH, b"\x01\x02\x03\x04"), (FLASH + 0x100, b"\x05")]


@pytest.mark.parametrize(
    "second_line",
    [
        ":04000000DEADBEEFC5",  # wrong checksum
        ":04000000DEADBEEF",  # too short for its length byte
        ":0400000GDEADBEEFC4",  # not hex
        "04000000DEADBEEFC4",  # no colon
    ],
)
def test_damaged_hex_record_names_the_file_and_line(tmp_path, second_line):
    hex_path = tmp_path / "firmware.hex"
    hex_path.write_text(f":020000040800F2\n{second_line}\n:00000001FF\n")
    with pytest.raises(ConfigError, match="firmware.hex:2 is not a valid Intel HEX record") as err:
        load_segments(hex_path)
    assert "objcopy -O ihex" in (err.value.hint or "")


# -- bad files --------------------------------------------------------------------------


@pytest.mark.parametrize("read", [check_elf, load_segments, SymbolTable.from_elf])
def test_missing_image_says_build_it(tmp_path, read):
    with pytest.raises(ConfigError, match="firmware image .*absent.elf does not exist") as err:
        read(tmp_path / "absent.elf")
    assert err.value.hint == "build it first (hil build)"


@pytest.mark.parametrize(
    "content", [b"this is not an ELF file\n", b"", b"\x7fELF\x01\x01\x01\x00"]
)  # text, empty, an ELF header cut short
def test_not_an_arm_elf_is_one_line(tmp_path, content):
    path = tmp_path / "firmware.elf"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match="firmware.elf is not a 32-bit Arm ELF image") as err:
        check_elf(path)
    assert err.value.hint == "pass the firmware.elf from hil build"
    with pytest.raises(ConfigError, match="not a 32-bit Arm ELF image") as err:
        load_segments(path)
    assert "Intel .hex" in (err.value.hint or "")  # the probe also takes HEX files
    with pytest.raises(ConfigError, match="is not an ELF image"):
        SymbolTable.from_elf(path)


def test_elf_for_another_machine_is_refused_but_its_symbols_read(tmp_path):
    host = Path(sys.executable).resolve()  # this machine's own (64-bit) ELF
    with pytest.raises(ConfigError, match="not a 32-bit Arm ELF"):
        check_elf(host)
    SymbolTable.from_elf(host)  # fault reports of host builds use it
    riscv = make_elf(tmp_path / "riscv.elf", [(FLASH, FLASH, b"code", 4)], machine=243)
    with pytest.raises(ConfigError, match="not a 32-bit Arm ELF"):
        load_segments(riscv)


def test_program_headers_past_the_end_of_the_file_are_a_damaged_image(tmp_path):
    elf = make_elf(tmp_path / "fw.elf", [(FLASH, FLASH, b"code", 4)])
    data = bytearray(elf.read_bytes())
    struct.pack_into("<I", data, 28, 0x10000)  # e_phoff far beyond the file
    elf.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="fw.elf is a damaged ELF image"):
        load_segments(elf)


def test_a_broken_elf_does_not_hide_the_fault(tmp_path):
    path = tmp_path / "firmware.elf"
    path.write_text("not an ELF\n")
    fault = pack("fault", pc=0x1010, lr=0x2005, cfsr=1 << 16, hfsr=1 << 30, index=3, context=0)
    with pytest.raises(DeviceFault) as info:
        with symbolized(path):
            raise DeviceFault(decode_fault(fault))
    assert "(?)" not in str(info.value)  # the fault as it was, without a symbol table
