"""firmware/nn/s8 on emulated cores: the DSP path (Cortex-M7, mps2-an500)
and the Helium path (Cortex-M55, mps3-an547) give the host plain-C build's
bytes for convolutions and fully-connected layers around every lane tail
(tests/helpers/nn_s8_qemu/driver.c)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers import s8lib

DRIVER_DIR = Path(__file__).resolve().parents[1] / "helpers" / "nn_s8_qemu"
TARGETS = {
    "cortex-m7": ("mps2-an500", ("-mfloat-abi=soft",)),
    "cortex-m55": ("mps3-an547", ("-mfloat-abi=hard",)),
}

pytestmark = [pytest.mark.needs_gcc, pytest.mark.needs_arm_gcc, pytest.mark.needs_qemu]


def _checked(cmd: list[str], cwd: Path) -> str:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout[-2000:]}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def host_output(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("s8_host") / "driver"
    sources = [str(DRIVER_DIR / "driver.c"), *map(str, s8lib.sources())]
    _checked(
        ["gcc", *s8lib.WARNINGS, f"-I{s8lib.INCLUDE_DIR}", *sources, "-o", str(out)], out.parent
    )
    text = _checked([str(out)], out.parent)
    assert text.endswith("done\n") and text.count("\n") == 25
    return text


@pytest.mark.parametrize("core", sorted(TARGETS))
def test_target_paths_give_the_host_bytes(tmp_path, host_output, core):
    machine, flags = TARGETS[core]
    elf = tmp_path / "driver.elf"
    _checked(
        [
            "arm-none-eabi-gcc",
            f"-mcpu={core}",
            "-mthumb",
            *flags,
            *s8lib.WARNINGS,
            f"-I{s8lib.INCLUDE_DIR}",
            "--specs=rdimon.specs",
            "-nostartfiles",
            "-T",
            str(DRIVER_DIR / "qemu.ld"),
            str(DRIVER_DIR / "startup.c"),
            str(DRIVER_DIR / "driver.c"),
            *map(str, s8lib.sources()),
            "-o",
            str(elf),
        ],  # fmt: skip
        tmp_path,
    )
    got = _checked(
        [
            "qemu-system-arm",
            "-machine",
            machine,
            "-nographic",
            "-semihosting-config",
            "enable=on,target=native",
            "-kernel",
            str(elf),
        ],  # fmt: skip
        tmp_path,
    )
    assert got.replace("\r\n", "\n") == host_output
