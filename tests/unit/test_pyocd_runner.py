"""PyocdRunner at its pyOCD boundary, with fake probes, sessions and programmer (no hardware).

The fakes (tests/helpers/pyocd_fakes.py) stand in for what
hil.runners.pyocd.load_pyocd returns; each records the calls it gets, so the
tests pin down exactly how pyOCD is driven: probe choice, session options,
program, verify, reset. The same runner with a real image and through the CLI:
tests/firmware/test_pyocd_runner_image.py.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from hil.config.boards import load_board
from hil.config.lab import Lab, LabBoard
from hil.errors import ConfigError, DeviceError
from hil.runners import pyocd as runner_module
from hil.runners import runner_for, serial_ports
from hil.runners.pyocd import PyocdRunner, load_segments

from helpers.pyocd_fakes import (
    TARGET,
    UID,
    UID2,
    Bench,
    FakeError,
    FakeFlashFailure,
    FakeProbeDisconnected,
    FakeTargetSupportError,
    FakeTransferError,
    Probe,
    install_bench,
)


def make_elf(path: Path, segments: list[tuple[int, bytes]]) -> Path:
    """A minimal 32-bit Arm ELF with one PT_LOAD per segment (what load_segments reads)."""
    phoff = 52
    data_off = phoff + 32 * len(segments)
    header = bytearray(b"\x7fELF\x01\x01\x01" + bytes(9))
    header += struct.pack(
        "<HHIIIIIHHHHHH",
        2,
        40,
        1,
        segments[0][0] | 1,
        phoff,
        0,
        0x05000200,
        52,
        32,
        len(segments),
        40,
        0,
        0,
    )
    body, phdrs = b"", b""
    for addr, blob in segments:
        phdrs += struct.pack("<8I", 1, data_off + len(body), addr, addr, len(blob), len(blob), 5, 4)
        body += blob
    path.write_bytes(bytes(header) + phdrs + body)
    return path


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def board():
    return load_board("nucleo-f746")


@pytest.fixture
def elf(tmp_path) -> Path:
    return make_elf(
        tmp_path / "firmware.elf",
        [(0x08000000, bytes(range(256)) * 4), (0x08000400, b"\x11\x22\x33\x44")],
    )


@pytest.fixture
def bench(monkeypatch) -> Bench:
    return install_bench(monkeypatch)


@pytest.fixture
def vcp(monkeypatch):
    """The ST-LINK's port is listed, and opening it works (records what was checked)."""
    checked = []
    monkeypatch.setattr(
        serial_ports,
        "list_ports",
        lambda: [serial_ports.PortInfo("/dev/ttyACM0", 0x0483, 0x374B, UID, "STM32 STLink")],
    )
    monkeypatch.setattr(
        serial_ports, "check_port", lambda url, baudrate: checked.append((url, baudrate))
    )
    return checked


def runner(board, elf, tmp_path, **kwargs) -> PyocdRunner:
    kwargs.setdefault("lab", Lab())
    return PyocdRunner(board, elf, tmp_path / "logs", **kwargs)


# -- the happy path ----------------------------------------------------------------------


def test_flash_verify_reset_and_find_the_port(board, elf, tmp_path, bench, vcp):
    seen = []

    def progress(fraction):
        seen.append(fraction)

    with runner(board, elf, tmp_path, progress=progress) as r:
        assert r.url == "/dev/ttyACM0"
        session_calls = bench.calls[:]
    assert session_calls[0] == ("list", False, None, False)
    assert session_calls[1] == ("session", False, True, UID, {"target_override": TARGET})
    assert session_calls[2] == ("open",)
    programmer = session_calls[3]
    assert programmer[0] == "programmer" and programmer[2] is progress
    assert session_calls[4] == ("program", str(elf), "elf")
    assert session_calls[5:7] == [("read", 0x08000000, 1024), ("read", 0x08000400, 4)]
    assert session_calls[7:] == [("reset",), ("reset",)]  # run after flashing, then a fresh boot
    assert bench.calls[-1] == ("close",)
    assert seen[0] == 0.25 and seen[-1] == 1.0
    assert vcp == [("/dev/ttyACM0", 115200)]
    log = r.log_path.read_text()
    assert f"probe {UID} (STM32 STLink)" in log and "verified" in log and "/dev/ttyACM0" in log


def test_runner_for_picks_the_pyocd_runner(board, elf, tmp_path, bench):
    r = runner_for(board, elf, tmp_path, probe=UID, lab=Lab())
    assert isinstance(r, PyocdRunner) and r.capabilities == frozenset({"reset"})


def test_pack_and_frequency_go_into_the_session_options(board, elf, tmp_path, bench, vcp):
    pack = tmp_path / "Keil.STM32F7xx_DFP.2.16.0.pack"
    pack.write_bytes(b"PK")
    with runner(board, elf, tmp_path, pack=pack, frequency=1_000_000):
        pass
    options = next(c for c in bench.calls if c[0] == "session")[4]
    assert options == {"target_override": TARGET, "pack": str(pack), "frequency": 1_000_000}


def test_given_port_is_used_and_not_discovered(board, elf, tmp_path, bench, monkeypatch):
    checked = []
    monkeypatch.setattr(serial_ports, "list_ports", lambda: pytest.fail("no discovery with --port"))
    monkeypatch.setattr(serial_ports, "check_port", lambda url, baudrate: checked.append(url))
    with runner(board, elf, tmp_path, port="rfc2217://bench2:4000") as r:
        assert r.url == "rfc2217://bench2:4000"
    assert checked == ["rfc2217://bench2:4000"]


def test_lab_file_supplies_probe_and_port_and_the_option_wins(board, elf, tmp_path, bench, vcp):
    bench.probes.append(Probe(UID2))
    lab = Lab(None, {"nucleo-f746": LabBoard(probe=UID2, port="/dev/ttyACM9", frequency=480000)})
    with runner(board, elf, tmp_path, lab=lab) as r:
        assert r.url == "/dev/ttyACM9"
    assert ("list", False, UID2, False) in bench.calls
    bench.calls.clear()
    with runner(board, elf, tmp_path, lab=lab, probe=UID):
        pass
    assert bench.calls[0] == ("list", False, UID, False)
    assert next(c for c in bench.calls if c[0] == "session")[4]["frequency"] == 480000
    r = runner(board, elf, tmp_path, lab=lab, probe=UID)
    assert r.sources == {"probe": "option", "pack": "default", "port": "lab", "frequency": "lab"}


def test_lab_path_is_loaded_by_the_runner(board, elf, tmp_path, bench, vcp):
    lab = tmp_path / "lab.toml"
    lab.write_text(f'[boards.nucleo-f746]\nprobe = "{UID}"\n')
    with runner(board, elf, tmp_path, lab=lab):
        pass
    assert bench.calls[0] == ("list", False, UID, False)


def test_reset_restarts_the_target(board, elf, tmp_path, bench, vcp):
    with runner(board, elf, tmp_path) as r:
        bench.calls.clear()
        r.reset()
        assert bench.calls == [("reset",)]
        assert r.alive()
    assert not r.alive()
    r.stop()  # idempotent


# -- errors ------------------------------------------------------------------------------


def test_no_probe(board, elf, tmp_path, bench):
    bench.probes = []
    with pytest.raises(
        DeviceError, match="no debug probe found: connect the board's ST-LINK USB"
    ) as err:
        runner(board, elf, tmp_path).__enter__()
    assert "pyocd list" in err.value.hint
    assert not any(c[0] == "session" for c in bench.calls)


def test_no_probe_with_the_given_id(board, elf, tmp_path, bench):
    with pytest.raises(DeviceError, match="no debug probe matches 'FFFF'"):
        runner(board, elf, tmp_path, probe="FFFF").__enter__()


def test_two_probes_and_no_choice_lists_them(board, elf, tmp_path, bench):
    bench.probes = [Probe(UID, "STM32 STLink"), Probe(UID2, "DAPLink CMSIS-DAP")]
    with pytest.raises(ConfigError, match="2 debug probes are connected") as err:
        runner(board, elf, tmp_path).__enter__()
    assert f"{UID} (STM32 STLink)" in err.value.message
    assert f"{UID2} (DAPLink CMSIS-DAP)" in err.value.message
    assert "--probe" in err.value.hint and "[boards.nucleo-f746]" in err.value.hint


def test_missing_target_pack(board, elf, tmp_path, bench):
    bench.fail["session"] = FakeTargetSupportError("Target type stm32f746zgtx not recognized.")
    with pytest.raises(ConfigError, match="pyOCD has no target stm32f746zgtx") as err:
        runner(board, elf, tmp_path).__enter__()
    assert "pyocd pack install stm32f746zgtx" in err.value.hint and "--pack FILE" in err.value.hint


def test_pack_without_the_target(board, elf, tmp_path, bench):
    pack = tmp_path / "other.pack"
    pack.write_bytes(b"PK")
    bench.fail["session"] = FakeTargetSupportError("not recognized")
    with pytest.raises(ConfigError, match="other.pack does not define it"):
        runner(board, elf, tmp_path, pack=pack).__enter__()


def test_pack_file_that_does_not_exist(board, elf, tmp_path, bench):
    with pytest.raises(ConfigError, match="CMSIS pack .*missing.pack does not exist"):
        runner(board, elf, tmp_path, pack=tmp_path / "missing.pack").__enter__()
    assert bench.calls == []


def test_probe_disconnecting_mid_flash(board, elf, tmp_path, bench):
    seen = []
    bench.fail["program"] = FakeProbeDisconnected("STLink disconnected")
    r = runner(board, elf, tmp_path, progress=seen.append)
    with pytest.raises(
        DeviceError,
        match=f"debug probe {UID} \\(STM32 STLink\\) failed while "
        "programming flash: STLink disconnected",
    ) as err:
        r.__enter__()
    assert "reconnect" in err.value.hint and "frequency" in err.value.hint
    assert str(r.log_path) in err.value.hint
    assert seen == [0.25]
    assert bench.calls[-1] == ("close",) and not r.alive()


def test_transfer_error_while_connecting(board, elf, tmp_path, bench):
    bench.fail["open"] = FakeTransferError("SWD fault")
    with pytest.raises(DeviceError, match="failed while connecting to the target: SWD fault"):
        runner(board, elf, tmp_path).__enter__()
    assert bench.calls[-1] == ("close",)


def test_flash_failure_names_protection(board, elf, tmp_path, bench):
    bench.fail["program"] = FakeFlashFailure("program failed at 0x08000000")
    with pytest.raises(DeviceError, match="programming flash on nucleo-f746 failed") as err:
        runner(board, elf, tmp_path).__enter__()
    assert "option bytes" in err.value.hint


def test_verify_mismatch(board, elf, tmp_path, bench, vcp):
    bench.corrupt_at = 0x08000010
    with pytest.raises(DeviceError, match="verify failed: flash at 0x08000010 differs"):
        runner(board, elf, tmp_path).__enter__()
    assert ("reset",) not in bench.calls


def test_remote_probe_needs_a_port_before_anything_is_flashed(board, elf, tmp_path, bench):
    with pytest.raises(ConfigError, match="on another machine"):
        runner(board, elf, tmp_path, probe="remote:bench2:5555").__enter__()
    assert bench.calls == []


def test_remote_probe_server_unreachable(board, elf, tmp_path, bench, vcp):
    bench.probes = [Probe("remote:bench2:5555", "vendor product")]
    bench.fail["open"] = ConnectionRefusedError(111, "Connection refused")
    with pytest.raises(
        DeviceError, match="cannot reach the probe server remote:bench2:5555"
    ) as err:
        runner(
            board, elf, tmp_path, probe="remote:bench2:5555", port="rfc2217://bench2:4000"
        ).__enter__()
    assert "pyocd server" in err.value.hint


def test_unknown_probe_type(board, elf, tmp_path, bench):
    bench.fail["list"] = FakeError("unknown debug probe type 'remot'")
    with pytest.raises(ConfigError, match="pyOCD rejected the probe 'remot:x'"):
        runner(board, elf, tmp_path, probe="remot:x").__enter__()


def test_a_qemu_board_is_refused(elf, tmp_path, bench):
    with pytest.raises(ConfigError, match="not a pyOCD board"):
        runner(load_board("qemu-m7"), elf, tmp_path)


def test_the_real_pyocd_exceptions_are_mapped():
    pytest.importorskip("pyocd")
    from pyocd.core import exceptions

    api = runner_module.load_pyocd()
    assert api.TargetSupportError is exceptions.TargetSupportError
    assert issubclass(exceptions.ProbeDisconnected, api.ProbeError)
    assert issubclass(exceptions.TransferFaultError, api.TransferError)
    assert issubclass(exceptions.FlashProgramFailure, api.FlashFailure)
    assert callable(api.ConnectHelper.session_with_chosen_probe)


# -- Intel HEX images --------------------------------------------------------------------


def test_hex_image_is_programmed_as_hex_and_verified(board, tmp_path, bench, vcp):
    hex_path = tmp_path / "firmware.hex"
    # 4 bytes at 0x08000000 (extended linear address 0x0800), then EOF.
    hex_path.write_text(":020000040800F2\n:04000000DEADBEEFC4\n:00000001FF\n")
    assert load_segments(hex_path) == [(0x08000000, bytes.fromhex("DEADBEEF"))]
    with runner(board, hex_path, tmp_path):
        pass
    assert ("program", str(hex_path), "hex") in bench.calls
    assert ("read", 0x08000000, 4) in bench.calls


def test_damaged_hex_record_is_named(tmp_path):
    hex_path = tmp_path / "firmware.hex"
    hex_path.write_text(":020000040800F2\n:04000000DEADBEEFC5\n")
    with pytest.raises(ConfigError, match="firmware.hex:2 is not a valid Intel HEX record"):
        load_segments(hex_path)
