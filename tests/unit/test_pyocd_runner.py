"""PyocdRunner at its pyOCD boundary, with fake probes, sessions and programmer (no hardware).

The fakes stand in for what hil.runners.pyocd.load_pyocd returns; each
records the calls it gets, so the tests pin down exactly how pyOCD is
driven: probe choice, session options, program, verify, reset.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from hil.cli import main
from hil.config.boards import load_board
from hil.config.lab import Lab, LabBoard
from hil.errors import ConfigError, DeviceError
from hil.runners import pyocd as runner_module
from hil.runners import runner_for, serial_ports
from hil.runners.pyocd import PyocdApi, PyocdRunner, load_segments

UID = "066DFF485457725187092531"
UID2 = "0670FF535155878281151932"
TARGET = "stm32f746zgtx"


# -- fake pyOCD --------------------------------------------------------------------------


class FakeError(RuntimeError): ...


class FakeTargetSupportError(FakeError): ...


class FakeProbeError(FakeError): ...


class FakeProbeDisconnected(FakeProbeError): ...


class FakeTargetError(FakeError): ...


class FakeTransferError(FakeTargetError): ...


class FakeFlashFailure(FakeTargetError): ...


class Probe:
    def __init__(self, unique_id: str, description: str = "STM32 STLink") -> None:
        self.unique_id = unique_id
        self.description = description


class Bench:
    """What is attached, what goes wrong, and every call pyOCD got."""

    def __init__(self, probes=(Probe(UID),)) -> None:
        self.probes = list(probes)
        self.calls: list[tuple] = []
        self.flash: dict[int, int] = {}
        self.fail: dict[str, BaseException] = {}  # step name -> exception to raise there
        self.corrupt_at: int | None = None

    def maybe_fail(self, step: str) -> None:
        if step in self.fail:
            raise self.fail[step]

    def api(self) -> PyocdApi:
        bench = self

        class Target:
            def reset(self):
                bench.calls.append(("reset",))
                bench.maybe_fail("reset")

            def read_memory_block8(self, addr, size):
                bench.calls.append(("read", addr, size))
                data = [bench.flash.get(a, 0xFF) for a in range(addr, addr + size)]
                if bench.corrupt_at is not None and addr <= bench.corrupt_at < addr + size:
                    data[bench.corrupt_at - addr] ^= 0x01
                return data

        class Session:
            def __init__(self, options):
                self.options = options
                self.target = Target()

            def open(self):
                bench.calls.append(("open",))
                bench.maybe_fail("open")

            def close(self):
                bench.calls.append(("close",))

        class ConnectHelper:
            @staticmethod
            def get_all_connected_probes(blocking=True, unique_id=None, print_wait_message=True):
                bench.calls.append(("list", blocking, unique_id, print_wait_message))
                bench.maybe_fail("list")
                return [
                    p
                    for p in bench.probes
                    if unique_id is None or unique_id.lower() in p.unique_id.lower()
                ]

            @staticmethod
            def session_with_chosen_probe(
                blocking=True,
                return_first=False,
                unique_id=None,
                auto_open=True,
                options=None,
                **kwargs,
            ):
                bench.calls.append(
                    ("session", blocking, return_first, unique_id, dict(options or {}))
                )
                bench.maybe_fail("session")
                return Session(options)

        class FileProgrammer:
            def __init__(self, session, progress=None, **kwargs):
                bench.calls.append(("programmer", session, progress))
                self.progress = progress

            def program(self, file_or_path, file_format=None, **kwargs):
                bench.calls.append(("program", file_or_path, file_format))
                if self.progress:
                    self.progress(0.25)
                bench.maybe_fail("program")
                for addr, data in load_segments(Path(file_or_path)):
                    bench.flash.update(zip(range(addr, addr + len(data)), data))
                if self.progress:
                    self.progress(1.0)

        return PyocdApi(
            ConnectHelper,
            FileProgrammer,
            FakeError,
            FakeTargetSupportError,
            FakeProbeError,
            FakeTransferError,
            FakeFlashFailure,
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
    bench = Bench()
    monkeypatch.setattr(runner_module, "load_pyocd", bench.api)
    monkeypatch.delenv("HIL_LAB", raising=False)
    return bench


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


# -- through the CLI: one line, the class's exit code ---------------------------------


@pytest.fixture(scope="module")
def lenet5_image(tmp_path_factory, require_tool):
    """Built once: the CLI tests are about what happens after the build."""
    require_tool("arm_gcc")
    from hil.device.connect import prepare_image
    from hil.model.io import load_model

    return prepare_image(
        load_board("nucleo-f746"), load_model("lenet5"), build_root=tmp_path_factory.mktemp("f746")
    )


@pytest.fixture
def flash_cli(tmp_path, monkeypatch, lenet5_image):
    import hil.device.connect

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(hil.device.connect, "prepare_image", lambda *args, **kwargs: lenet5_image)

    def run(*args: str) -> int:
        return main(
            [
                "flash",
                "--board",
                "nucleo-f746",
                "--model",
                "lenet5",
                "--build-dir",
                str(tmp_path / "build"),
                *args,
            ]
        )

    return run


def error_lines(capsys) -> list[str]:
    err = capsys.readouterr().err
    return [line for line in err.splitlines() if line.strip()]


def test_cli_without_a_probe_exits_4_with_one_line(flash_cli, bench, capsys):
    bench.probes = []
    assert flash_cli() == 4
    lines = error_lines(capsys)
    assert (
        lines[0] == "error: no debug probe found: connect the board's ST-LINK USB to this machine"
    )
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in "\n".join(lines)


def test_cli_two_probes_exits_2_listing_them(flash_cli, bench, capsys):
    bench.probes = [Probe(UID), Probe(UID2)]
    assert flash_cli() == 2
    assert UID2 in error_lines(capsys)[0]


def test_cli_missing_pack_exits_2_with_the_fix(flash_cli, bench, capsys):
    bench.fail["session"] = FakeTargetSupportError("not recognized")
    assert flash_cli() == 2
    out = " ".join(error_lines(capsys))
    assert "error: pyOCD has no target stm32f746zgtx" in out
    assert "pyocd pack install stm32f746zgtx" in out


def test_cli_disconnect_mid_flash_exits_4(flash_cli, bench, capsys):
    bench.fail["program"] = FakeProbeDisconnected("STLink disconnected")
    assert flash_cli() == 4
    assert "failed while programming flash" in error_lines(capsys)[0]


def test_cli_probe_option_and_lab_file_reach_the_runner(flash_cli, bench, capsys, tmp_path):
    bench.probes = []
    (tmp_path / "lab.toml").write_text(f'[boards.nucleo-f746]\nprobe = "{UID2}"\n')
    assert flash_cli() == 4
    assert bench.calls[0] == ("list", False, UID2, False)
    bench.calls.clear()
    assert flash_cli("--probe", UID) == 4
    assert bench.calls[0] == ("list", False, UID, False)
    bad = tmp_path / "bad.toml"
    bad.write_text("[boards.nucleo-f746]\nprobee = 1\n")
    assert flash_cli("--lab", str(bad)) == 2
    assert "probee is not a lab board setting" in capsys.readouterr().err


def test_cli_run_goes_through_the_pyocd_runner(tmp_path, monkeypatch, lenet5_image, bench, capsys):
    import hil.device.connect

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(hil.device.connect, "prepare_image", lambda *args, **kwargs: lenet5_image)
    bench.probes = []
    code = main(
        [
            "run",
            "--board",
            "nucleo-f746",
            "--model",
            "lenet5",
            "-n",
            "1",
            "--build-dir",
            str(tmp_path / "build"),
            "--probe",
            UID,
        ]
    )
    assert code == 4
    assert bench.calls == [("list", False, UID, False)]
    assert "no debug probe matches" in capsys.readouterr().err


# -- open_device with the runner and a real firmware on the other end of the port ----------


@pytest.mark.needs_gcc
def test_open_device_flashes_then_handshakes_over_the_port(
    tmp_path, monkeypatch, lenet5_image, bench
):
    """The host build of the firmware stands in for the board's UART (its HELLO is real)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "protocol_host"))
    import hostfw

    from hil.device.connect import open_device
    from hil.model.io import load_model

    exe = hostfw.build_host_firmware(load_model("lenet5"), tmp_path, name="fw")
    # The host device accepts one connection: the port check would use it up.
    monkeypatch.setattr(serial_ports, "check_port", lambda url, baudrate: None)
    with hostfw.HostDevice(exe) as dev:
        with open_device(
            load_board("nucleo-f746"),
            lenet5_image,
            log_dir=tmp_path,
            port=dev.url,
            runner_options={"lab": Lab(), "port": dev.url},
        ) as device:
            assert isinstance(device.runner, PyocdRunner)
            assert device.info.model_name == "lenet5"
            steps = [c[0] for c in bench.calls]
        dev.stop()
    segments = load_segments(lenet5_image.elf)
    assert steps == [
        "list",
        "session",
        "open",
        "programmer",
        "program",
        *["read"] * len(segments),
        "reset",
        "reset",
    ]
    assert [c[1] for c in bench.calls if c[0] == "program"] == [str(lenet5_image.elf)]
    for address, data in segments:  # what the fake flash holds is the image's load view
        assert bytes(bench.flash[a] for a in range(address, address + len(data))) == data


# -- Intel HEX images --------------------------------------------------------------------


def flat(segments) -> dict[int, int]:
    return {a + i: b for a, data in segments for i, b in enumerate(data)}


def test_hex_image_holds_the_same_bytes_as_the_elf(tmp_path, lenet5_image):
    hex_path = tmp_path / "firmware.hex"
    subprocess.run(
        ["arm-none-eabi-objcopy", "-O", "ihex", str(lenet5_image.elf), str(hex_path)], check=True
    )
    assert flat(load_segments(hex_path)) == flat(load_segments(lenet5_image.elf))


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
