"""The NUCLEO-F746ZG firmware builds, links and lays out as the STM32F746ZG boots it.

No board here: the image is checked statically, from its ELF headers and
symbols, against the part's memory map (RM0385): flash 1 MiB at
0x08000000, SRAM 320 KiB at 0x20000000 of which DTCM is the first 64 KiB.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from hil.config.boards import load_board
from hil.datadirs import firmware_root
from hil.device.connect import prepare_image
from hil.model.io import load_model

pytestmark = pytest.mark.needs_arm_gcc

FLASH = (0x08000000, 0x08100000)
SRAM = (0x20000000, 0x20050000)
DTCM_END = 0x20010000
USART3_IRQ = 39
MODELS = ("cifar10", "lenet5")


class Elf:
    """Just enough of a 32-bit little-endian ELF: program headers, sections, symbols."""

    def __init__(self, path: Path) -> None:
        self.data = path.read_bytes()
        assert self.data[:6] == b"\x7fELF\x01\x01", "not a 32-bit little-endian ELF"
        (self.machine,) = struct.unpack_from("<H", self.data, 18)
        (self.entry,) = struct.unpack_from("<I", self.data, 24)
        phoff, shoff = struct.unpack_from("<II", self.data, 28)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<5H", self.data, 42)
        self.segments = [
            struct.unpack_from("<8I", self.data, phoff + i * phentsize) for i in range(phnum)
        ]
        raw = [struct.unpack_from("<10I", self.data, shoff + i * shentsize) for i in range(shnum)]
        names = raw[shstrndx][4]
        self.sections = {self._str(names, s[0]): s for s in raw}
        symtab, strtab = self.sections[".symtab"], self.sections[".strtab"]
        self.symbols = {}
        for off in range(symtab[4], symtab[4] + symtab[5], 16):
            name, value, _size, _info, _other, _shndx = struct.unpack_from(
                "<IIIBBH", self.data, off
            )
            if name:
                self.symbols[self._str(strtab[4], name)] = value

    def _str(self, table_offset: int, index: int) -> str:
        start = table_offset + index
        return self.data[start : self.data.index(b"\0", start)].decode()

    def load_bytes(self, address: int, size: int) -> bytes:
        """Bytes the programmer writes at ``address`` (by load address)."""
        for p_type, offset, _vaddr, paddr, filesz, *_ in self.segments:
            if p_type == 1 and paddr <= address and address + size <= paddr + filesz:
                return self.data[offset + address - paddr : offset + address - paddr + size]
        raise AssertionError(f"nothing is loaded at {address:#x}")

    def words(self, address: int, count: int) -> tuple[int, ...]:
        return struct.unpack(f"<{count}I", self.load_bytes(address, 4 * count))


@pytest.fixture(scope="module")
def board():
    return load_board("nucleo-f746")


@pytest.fixture(scope="module", params=MODELS)
def image(request, board, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"f746-{request.param}")
    return prepare_image(board, load_model(request.param), build_root=root)


def within(region: tuple[int, int], start: int, end: int | None = None) -> bool:
    return region[0] <= start and (start if end is None else end) <= region[1]


def test_image_is_a_cortex_m_arm_elf_for_this_board(image, board):
    elf = Elf(image.elf)
    assert elf.machine == 40  # EM_ARM
    assert image.board_id == "nucleo-f746" and image.variant == "dsp"
    assert elf.entry & 1 and within(FLASH, elf.entry & ~1)


def test_vector_table_starts_flash(image):
    elf = Elf(image.elf)
    assert elf.symbols["hal_vector_table"] == FLASH[0]
    sp, reset, nmi, hardfault = elf.words(FLASH[0], 4)
    assert within(SRAM, sp - 8, sp) and sp % 8 == 0, f"initial SP {sp:#x} outside SRAM"
    assert sp <= DTCM_END, "the stack belongs in DTCM"
    assert reset & 1, "reset vector must have the Thumb bit"
    assert reset & ~1 == elf.symbols["Reset_Handler"] & ~1
    for handler in (reset, nmi, hardfault):
        assert within(FLASH, handler & ~1)


def test_usart3_interrupt_reaches_its_handler(image):
    elf = Elf(image.elf)
    (vector,) = elf.words(FLASH[0] + 4 * (16 + USART3_IRQ), 1)
    assert vector & ~1 == elf.symbols["USART3_IRQHandler"] & ~1
    (systick,) = elf.words(FLASH[0] + 4 * 15, 1)
    assert systick & ~1 == elf.symbols["SysTick_Handler"] & ~1


def test_every_loaded_byte_fits_the_part(image, board):
    elf = Elf(image.elf)
    for p_type, _off, vaddr, paddr, filesz, memsz, *_ in elf.segments:
        if p_type != 1:
            continue
        if filesz:
            assert within(FLASH, paddr, paddr + filesz), f"load image at {paddr:#x} outside flash"
        if memsz and not within(FLASH, vaddr):
            assert within(SRAM, vaddr, vaddr + memsz), f"RAM segment at {vaddr:#x} outside SRAM"
    assert image.flash_bytes <= board.flash.size
    assert image.ram_bytes + board.stack_size <= board.ram.size


def test_stack_guard_sits_below_the_stack_at_the_start_of_dtcm(image, board):
    s = Elf(image.elf).symbols
    assert s["__stack_guard_start"] == SRAM[0]
    assert s["__stack_guard_end"] - s["__stack_guard_start"] == 1024
    assert s["_estack"] - s["__stack_guard_end"] == board.stack_size
    assert s["_sdata"] >= s["_estack"] and s["_ebss"] <= SRAM[1]


def test_uart_rx_ring_is_in_dtcm_right_after_the_stack(image):
    """The DMA fills the ring behind the CPU's back: it must sit where the D-cache never looks."""
    s = Elf(image.elf).symbols
    assert s["__rx_ring_start"] == s["_estack"]
    assert s["__rx_ring_end"] - s["__rx_ring_start"] == 8192
    assert s["__rx_ring_end"] <= DTCM_END and s["_sdata"] >= s["__rx_ring_end"]


def test_port_sources_compile_without_warnings(board, tmp_path):
    """The build shows warnings but does not fail on them; the port must have none."""
    port = firmware_root() / "port" / "stm32f7"
    arch = firmware_root() / "port" / "armv7m"
    for src in sorted([*port.glob("*.c"), *arch.glob("*.c")]):
        cmd = [
            "arm-none-eabi-gcc",
            *board.cpu.gcc_flags(),
            "-O2",
            "-std=gnu11",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{firmware_root() / 'include'}",
            f"-I{port}",
            f"-I{arch}",
            f"-DHIL_UART_BAUD={board.baud}u",
            "-c",
            str(src),
            "-o",
            str(tmp_path / "x.o"),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, f"{src.name}:\n{result.stderr}"
