"""The build (with arm-none-eabi-gcc at hand) refuses a core no port serves before it
compiles anything; the port descriptions themselves: tests/unit/test_ports.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hil.config.boards import load_board
from hil.errors import ConfigError
from hil.firmware.build import build_firmware


def board_of(family: str, core: str = "cortex-m3"):
    return dataclasses.replace(load_board("qemu-m3"), family=family, core=core)


@pytest.mark.needs_arm_gcc
def test_the_build_refuses_an_unserved_core_before_compiling(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cortex-m0, which port armv7m does not serve"):
        build_firmware(
            board_of("mps2", "cortex-m0"), None, tmp_path / "out", cache_dir=tmp_path / "cache"
        )
    assert not (tmp_path / "out" / "obj").exists()
