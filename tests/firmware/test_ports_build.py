"""The build (with arm-none-eabi-gcc at hand) refuses a core no port serves before it
compiles anything, and builds a board port's driver ports with it; the port
descriptions themselves: tests/unit/test_ports.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from hil.config.boards import CpuFlags, load_board
from hil.errors import ConfigError
from hil.firmware.build import build_firmware

APP = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "firmware"


def board_of(family: str, core: str = "cortex-m3"):
    return dataclasses.replace(load_board("qemu-m3"), family=family, core=core)


@pytest.mark.needs_arm_gcc
def test_the_build_refuses_an_unserved_core_before_compiling(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cortex-m0, which port armv7m does not serve"):
        build_firmware(
            board_of("mps2", "cortex-m0"), None, tmp_path / "out", cache_dir=tmp_path / "cache"
        )
    assert not (tmp_path / "out" / "obj").exists()


@pytest.mark.needs_arm_gcc
def test_the_armv8m_port_also_builds_for_a_cortex_m33(tmp_path: Path) -> None:
    # armv8m serves cortex-m33 too: the same reset, fault entry and MSPLIM guard
    # link without MVE (no board ships one; mps3-an547 in QEMU takes only an M55).
    m55 = load_board("qemu-m55")
    m33 = dataclasses.replace(
        m55, core="cortex-m33", cpu=CpuFlags("cortex-m33", "hard", "fpv5-sp-d16")
    )
    image = build_firmware(
        m33, None, tmp_path / "out", app_dir=APP, with_nn=False, cache_dir=tmp_path / "cache"
    )
    assert image.elf.is_file() and image.flash_bytes > 0


@pytest.mark.needs_arm_gcc
@pytest.mark.parametrize(("board_id", "uart_irq"), [("qemu-m3", 0), ("qemu-m55", 43)])
def test_the_cmsdk_driver_port_is_built_with_each_boards_config(
    tmp_path: Path, board_id: str, uart_irq: int
) -> None:
    # mps2 and mps3 name drivers = ["cmsdk"]: its sources compile against the board's
    # cmsdk_config.h (the driver's directory on the include path), and the board's
    # vector table points the UART's IRQ at the shared handler.
    image = build_firmware(
        load_board(board_id),
        None,
        tmp_path / "out",
        app_dir=APP,
        with_nn=False,
        cache_dir=tmp_path / "cache",
    )
    with image.elf.open("rb") as f:
        elf = ELFFile(f)
        symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
        table = symbols["hal_vector_table"]
        word = 4 * (16 + uart_irq)
        for segment in elf.iter_segments():
            start = segment["p_vaddr"]
            if segment["p_type"] == "PT_LOAD" and start <= table < start + segment["p_filesz"]:
                data = segment.data()[table - start + word : table - start + word + 4]
                break
    assert int.from_bytes(data, "little") == symbols["cmsdk_uart_irq_handler"] | 1
    assert "hal_port_watchdog_exception" in symbols  # cmsdk_watchdog.c, for the fault entry
