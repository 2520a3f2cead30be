"""QEMU runner: boot the port test firmware on every emulated board (mps2, mps3) and talk to it."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from hil.config.boards import load_board
from hil.errors import ConfigError, DeviceError
from hil.firmware.build import FirmwareImage, build_firmware
from hil.runners import RESET, runner_for
from hil.runners.qemu import QemuRunner

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "fixtures" / "firmware"
BOARDS = ("qemu-m7", "qemu-m4", "qemu-m3", "qemu-m55")
READ_TIMEOUT = 10.0  # generous: a loaded CI machine, never part of an assertion

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.needs_qemu,
    pytest.mark.needs_arm_gcc,
]


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, FirmwareImage]:
    out = tmp_path_factory.mktemp("fw")
    cache = tmp_path_factory.getbasetemp() / "object-cache"
    return {
        b: build_firmware(load_board(b), None, out / b, app_dir=APP, with_nn=False, cache_dir=cache)
        for b in BOARDS
    }


@pytest.fixture(autouse=True)
def no_qemu_left_behind(qemu_children):
    yield
    assert qemu_children() == [], "a QEMU process outlived its runner"


def read_line(port: serial.Serial, prefix: bytes) -> bytes:
    """The next line starting with prefix (earlier lines are skipped)."""
    deadline = time.monotonic() + READ_TIMEOUT
    while time.monotonic() < deadline:
        line = port.readline()
        if line.startswith(prefix):
            return line.rstrip(b"\n")
    raise AssertionError(f"no line starting with {prefix!r} within {READ_TIMEOUT} s")


def read_exactly(port: serial.Serial, n: int) -> bytes:
    data = bytearray()
    deadline = time.monotonic() + READ_TIMEOUT
    while len(data) < n and time.monotonic() < deadline:
        data += port.read(n - len(data))
    return bytes(data)


def fields(line: bytes) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=(\S+)", line.decode()))


def run(images, board_id: str, tmp_path: Path) -> QemuRunner:
    return QemuRunner(load_board(board_id), images[board_id].elf, tmp_path / "logs")


def open_uart(url: str) -> serial.Serial:
    return serial.serial_for_url(url, timeout=0.2)


@pytest.mark.parametrize("board_id", BOARDS)
def test_banner_and_echo_burst(images, board_id: str, tmp_path: Path) -> None:
    with run(images, board_id, tmp_path) as runner:
        assert runner.url.startswith("socket://127.0.0.1:")
        with open_uart(runner.url) as port:
            banner = fields(read_line(port, b"HIL-TEST"))
            assert banner["board"] == board_id and banner["core"] == load_board(board_id).core
            assert banner["build"] == images[board_id].build_id
            # The fixture says "systick" for any source but the DWT: QEMU models no DWT.
            assert banner["source"] == "systick"
            assert banner["hz"] == str(load_board(board_id).qemu.timer_hz)
            payload = random.Random(board_id).randbytes(4096)
            port.write(b"e" + len(payload).to_bytes(2, "little") + payload)
            assert read_exactly(port, len(payload)) == payload
        assert runner.alive()
    assert not runner.alive()


@pytest.mark.parametrize("board_id", BOARDS)
def test_icount_cycles_repeat_exactly(images, board_id: str, tmp_path: Path) -> None:
    counts, instructions = [], []
    for shift in (3, 3, 5):
        runner = QemuRunner(
            load_board(board_id), images[board_id].elf, tmp_path / "logs", icount_shift=shift
        )
        with runner, open_uart(runner.url) as port:
            counts.append(int(fields(read_line(port, b"HIL-TEST"))["cycles"]))
            instructions.append(runner.instructions(counts[-1]))
    assert counts[0] == counts[1]
    # Another shift scales the ticks, not the work: same instruction count to a tick.
    assert abs(instructions[2] - instructions[0]) <= 5
    # 100000 iterations of a volatile loop: a handful of instructions each.
    assert 3 * 100000 <= instructions[0] <= 20 * 100000


@pytest.mark.parametrize("board_id", BOARDS)
def test_undefined_instruction_reports_cfsr_and_pc(images, board_id: str, tmp_path: Path) -> None:
    nm = subprocess.run(
        ["arm-none-eabi-nm", str(images[board_id].elf)], capture_output=True, text=True
    )
    fault_here = int(re.search(r"^(\w+) T fixture_fault_here$", nm.stdout, re.M).group(1), 16) & ~1
    with run(images, board_id, tmp_path) as runner, open_uart(runner.url) as port:
        read_line(port, b"HIL-TEST")
        port.write(b"f")
        fault = fields(read_line(port, b"FAULT"))
        assert int(fault["cfsr"], 16) == 1 << 16  # UFSR.UNDEFINSTR
        assert int(fault["pc"], 16) == fault_here
        assert runner.wait(READ_TIMEOUT) == 0  # hil_on_fault resets; -no-reboot ends QEMU


@pytest.mark.parametrize(
    ("board_id", "command", "cfsr_bit"),
    [
        ("qemu-m3", b"d", 25),  # DIVBYZERO
        ("qemu-m3", b"s", 4),  # MSTKERR: the MPU guard (armv7m)
        ("qemu-m55", b"s", 20),  # STKOF: MSPLIM (armv8m)
    ],
)
def test_divide_by_zero_and_stack_overflow_fault(
    images, tmp_path: Path, board_id: str, command: bytes, cfsr_bit: int
) -> None:
    with run(images, board_id, tmp_path) as runner, open_uart(runner.url) as port:
        read_line(port, b"HIL-TEST")
        port.write(command)
        assert int(fields(read_line(port, b"FAULT"))["cfsr"], 16) & (1 << cfsr_bit)


def test_reset_restarts_the_firmware(images, tmp_path: Path) -> None:
    with run(images, "qemu-m7", tmp_path) as runner, open_uart(runner.url) as port:
        assert RESET in runner.capabilities
        read_line(port, b"HIL-TEST")
        runner.reset()
        read_line(port, b"HIL-TEST")
        port.write(b"e\x03\x00abc")
        assert read_exactly(port, 3) == b"abc"
        assert runner.alive()


def test_qemu_killed_mid_run_is_detected(images, tmp_path: Path) -> None:
    with run(images, "qemu-m4", tmp_path) as runner, open_uart(runner.url) as port:
        read_line(port, b"HIL-TEST")
        runner.process.kill()
        runner.process.wait()
        with pytest.raises(serial.SerialException):
            port.write(b"e\x01\x00x")
            read_exactly(port, 1)
            port.read(1)
        assert not runner.alive()
        with pytest.raises(DeviceError) as err:
            runner.check()
        assert "was killed by SIGKILL (status -9)" in err.value.message
        assert str(runner.log_path) in err.value.message


def test_early_exit_reports_qemu_stderr(images, tmp_path: Path) -> None:
    import dataclasses

    board = load_board("qemu-m3")
    board = dataclasses.replace(
        board, access=dataclasses.replace(board.access, machine="mps2-an999")
    )
    runner = QemuRunner(board, images["qemu-m3"].elf, tmp_path / "logs")
    with pytest.raises(DeviceError) as err:
        runner.start()
    runner.stop()
    assert "exited with status 1" in err.value.message and str(runner.log_path) in err.value.message
    assert "unsupported machine type" in err.value.hint  # QEMU's own words


def test_not_an_elf_is_refused_before_launch(tmp_path: Path) -> None:
    not_elf = tmp_path / "firmware.elf"
    not_elf.write_text("this is not an ELF file\n")
    with pytest.raises(ConfigError, match="not a 32-bit Arm ELF"):
        QemuRunner(load_board("qemu-m3"), not_elf, tmp_path / "logs").start()


def test_missing_qemu_gives_the_install_hint(images, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    runner = QemuRunner(load_board("qemu-m3"), images["qemu-m3"].elf, tmp_path / "logs")
    with pytest.raises(DeviceError) as err:
        runner.start()
    runner.stop()
    assert "qemu-system-arm not found" in err.value.message
    assert "apt-get install qemu-system-arm" in err.value.hint


def test_stop_is_idempotent_and_safe_before_start(images, tmp_path: Path) -> None:
    runner = run(images, "qemu-m3", tmp_path)
    runner.stop()
    runner.start()
    runner.stop()
    runner.stop()
    assert not runner.alive()


def test_interrupted_session_still_stops_qemu(images, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with run(images, "qemu-m3", tmp_path) as runner:
            raise KeyboardInterrupt
    assert not runner.alive()


def test_stop_while_nobody_connected(images, tmp_path: Path) -> None:
    runner = run(images, "qemu-m3", tmp_path)
    runner.start()  # QEMU now waits for the UART client
    runner.stop()
    assert runner.exit_status() is not None


def test_runner_for_picks_by_kind(images, tmp_path: Path) -> None:
    assert isinstance(
        runner_for(load_board("qemu-m7"), images["qemu-m7"].elf, tmp_path), QemuRunner
    )


def test_non_qemu_board_is_refused(tmp_path: Path) -> None:
    import dataclasses

    from hil.config.boards import PyocdAccess

    board = dataclasses.replace(
        load_board("qemu-m7"), kind="pyocd", access=PyocdAccess(target="stm32f746zgtx")
    )
    with pytest.raises(ConfigError, match="not an emulated board"):
        QemuRunner(board, tmp_path / "x.elf", tmp_path)


def test_missing_image(tmp_path: Path) -> None:
    runner = QemuRunner(load_board("qemu-m3"), tmp_path / "absent.elf", tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        runner.start()


def test_atexit_stops_a_forgotten_runner(images, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from hil.config.boards import load_board\n"
        "from hil.runners.qemu import QemuRunner\n"
        f"r = QemuRunner(load_board('qemu-m3'), Path({str(images['qemu-m3'].elf)!r}), Path({str(tmp_path)!r}))\n"
        "r.start()\n"
        "print(r.process.pid, flush=True)\n"  # exits without stop()
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    stat = Path(f"/proc/{int(out.stdout)}/stat")
    # Gone, or a zombie waiting for init to reap it: either way no longer running.
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
