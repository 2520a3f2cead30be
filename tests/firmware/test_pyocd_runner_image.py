"""PyocdRunner driven through the CLI and open_device with a real NUCLEO-F746 image
(arm-none-eabi-gcc) and the fake pyOCD of tests/helpers/pyocd_fakes.py (no hardware)."""

from __future__ import annotations

import subprocess

import pytest

from hil.cli import main
from hil.config.boards import load_board
from hil.config.lab import Lab
from hil.runners import serial_ports
from hil.runners.pyocd import PyocdRunner, load_segments

from helpers.pyocd_fakes import (
    UID,
    UID2,
    Bench,
    FakeProbeDisconnected,
    FakeTargetSupportError,
    Probe,
    install_bench,
)


@pytest.fixture
def bench(monkeypatch) -> Bench:
    return install_bench(monkeypatch)


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

    from hil.device.connect import open_device
    from hil.model.io import load_model

    from helpers import hostfw

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
