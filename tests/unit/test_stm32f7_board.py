"""boards/nucleo-f746.toml and the board-file sections a pyOCD board uses ([pyocd], [usb])."""

from __future__ import annotations

import copy
import tomllib

import pytest

from hil.config.boards import boards_dir, load_board, parse_board
from hil.errors import ConfigError

PATH = boards_dir() / "nucleo-f746.toml"


@pytest.fixture
def data() -> dict:
    return tomllib.loads(PATH.read_text())


def parse(data: dict):
    return parse_board(copy.deepcopy(data), PATH)


def test_nucleo_board_describes_the_stm32f746zg():
    b = load_board("nucleo-f746")
    assert (b.kind, b.family, b.core, b.variant) == ("pyocd", "stm32f7", "cortex-m7", "dsp")
    assert b.cpu.gcc_flags() == ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16")
    assert (b.flash.origin, b.flash.size) == (0x08000000, 1 << 20)
    assert (b.ram.origin, b.ram.size) == (0x20000000, 320 << 10)
    assert b.target == "stm32f746zgtx"
    assert b.baud == 115200
    assert b.usb is not None and b.usb.vid == 0x0483
    assert {0x374B, 0x374E, 0x374F, 0x3753} <= set(b.usb.pids)


def test_float_abi_matches_the_other_hard_float_boards():
    assert load_board("nucleo-f746").cpu.float_abi == load_board("qemu-m7").cpu.float_abi


def test_stack_fits_dtcm_with_its_guard():
    b = load_board("nucleo-f746")
    assert b.stack_size + 1024 <= 64 << 10


@pytest.mark.parametrize("key", ["probe", "port", "unique_id"])
def test_lab_wiring_in_a_board_file_is_refused(data, key):
    data["pyocd"][key] = "0668FF"
    with pytest.raises(ConfigError, match=f"pyocd.{key} is lab wiring") as err:
        parse(data)
    assert "lab file" in err.value.hint


def test_pyocd_board_needs_a_target(data):
    del data["pyocd"]["target"]
    with pytest.raises(ConfigError, match="pyocd.target is missing"):
        parse(data)


def test_unknown_pyocd_key_is_named(data):
    data["pyocd"]["targett"] = "x"
    with pytest.raises(ConfigError, match="pyocd.targett is not a pyocd setting"):
        parse(data)


@pytest.mark.parametrize(
    "usb, problem",
    [
        ({"vid": 0, "pids": []}, "usb.vid"),
        ({"vid": 0x10000}, "usb.vid"),
        ({"vid": "0483"}, "usb.vid must be an integer"),
        ({"vid": 0x0483, "pids": [0x374B, "x"]}, "usb.pids"),
        ({"vid": 0x0483, "pids": 0x374B}, "usb.pids must be a list"),
        ({"vid": 0x0483, "pids": [0x1FFFF]}, "usb.pids"),
        ({"vid": 0x0483, "pid": [1]}, "usb.pid is not a usb setting"),
    ],
)
def test_bad_usb_section_is_named(data, usb, problem):
    data["usb"] = usb
    with pytest.raises(ConfigError, match=problem):
        parse(data)


def test_usb_section_is_optional(data):
    del data["usb"]
    assert parse(data).usb is None
