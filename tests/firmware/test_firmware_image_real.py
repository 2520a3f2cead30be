"""The firmware image reader on a real image: the lenet5 firmware for the NUCLEO-F746
(arm-none-eabi-gcc), read as ELF and as Intel HEX and checked against nm."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hil.firmware.image import SymbolTable, check_elf, load_segments, symbolized
from hil.protocol.fault import DeviceFault, decode_fault
from hil.protocol.messages import pack

FLASH = 0x08000000


def flat(segments) -> dict[int, int]:
    return {a + i: b for a, data in segments for i, b in enumerate(data)}


@pytest.fixture(scope="module")
def built(tmp_path_factory, require_tool) -> tuple[Path, Path]:
    """The lenet5 firmware for the NUCLEO-F746 (its .data loads from flash), and its HEX."""
    require_tool("arm_gcc")
    from hil.config.boards import load_board
    from hil.device.connect import prepare_image
    from hil.model.io import load_model

    out = tmp_path_factory.mktemp("image")
    elf = prepare_image(load_board("nucleo-f746"), load_model("lenet5"), build_root=out).elf
    hex_path = out / "firmware.hex"
    subprocess.run(["arm-none-eabi-objcopy", "-O", "ihex", str(elf), str(hex_path)], check=True)
    return elf, hex_path


def nm(elf: Path) -> dict[str, int]:
    tool = shutil.which("arm-none-eabi-nm")
    assert tool, "arm-none-eabi-nm comes with arm-none-eabi-gcc"
    lines = subprocess.run([tool, str(elf)], capture_output=True, text=True, check=True).stdout
    return {
        p[2]: int(p[0], 16) for p in (line.split() for line in lines.splitlines()) if len(p) == 3
    }


def test_elf_and_hex_put_the_same_bytes_in_flash(built):
    elf, hex_path = built
    from_elf, from_hex = load_segments(elf), load_segments(hex_path)
    assert flat(from_elf) == flat(from_hex)
    assert len(from_hex) <= len(from_elf)  # the HEX reader merges touching runs
    assert all(FLASH <= address < FLASH + 0x100000 for address, _ in from_elf + from_hex)
    assert sum(len(data) for _, data in from_elf) > 10_000


def test_initial_data_is_loaded_at_its_flash_address(built):
    elf, _ = built
    symbols = nm(elf)
    # .data lives in RAM but its initial values are flashed after the code.
    loaded = dict(load_segments(elf))
    assert len(loaded[symbols["_sidata"]]) == symbols["_edata"] - symbols["_sdata"] > 0
    assert symbols["_sdata"] not in loaded


def test_symbols_of_a_real_image_agree_with_nm(built):
    elf, _ = built
    table = SymbolTable.from_elf(elf)
    symbols = nm(elf)
    assert len(table) > 10
    main = symbols["main"] & ~1
    assert table.lookup(main) == "main"
    assert table.lookup(main + 2) == "main+0x2"
    assert table.lookup(main | 1) == "main"  # a Thumb return address
    guard = (symbols["__stack_guard_start"], symbols["__stack_guard_end"])
    assert table.stack_guard() == guard and guard[0] < guard[1]
    assert table.address_of("__stack_guard_start") == guard[0]
    assert table.address_of("main") is None  # functions are looked up by address


def test_the_real_image_passes_the_emulator_check(built):
    check_elf(built[0])


def test_a_real_elf_names_the_faulting_function(built):
    elf, _ = built
    main = nm(elf)["main"] & ~1
    fault = pack("fault", pc=main + 4, lr=main | 1, cfsr=1 << 16, hfsr=1 << 30, index=3, context=0)
    with pytest.raises(DeviceFault) as info:
        with symbolized(elf):
            raise DeviceFault(decode_fault(fault))
    assert "(main+0x4)" in str(info.value) and "(main)" in str(info.value)
