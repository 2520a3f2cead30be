"""The Renode runner at its boundary: the script and command it gives Renode,
its errors, and a whole session through a stand-in `renode` executable that
runs a host build of the firmware behind the UART socket the script asks for.
(Renode itself is not installed here.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hil.config.boards import load_board
from hil.device.connect import open_device, prepare_image
from hil.errors import ConfigError, DeviceError
from hil.model.examples import build_example
from hil.model.inputs import generated_inputs
from hil.reference.network import run_network
from hil.runners import runner_for
from hil.runners.renode import RENODE_ENV, RenodeRunner

from helpers import hostfw

FAKE = Path(__file__).resolve().parents[1] / "fixtures" / "renode" / "fake_renode.py"
BOARD = "renode-f746"


@pytest.fixture(scope="module")
def net():
    return build_example("lenet5")


@pytest.fixture(scope="module")
def image(net, tmp_path_factory, require_tool):
    require_tool("arm_gcc")
    return prepare_image(load_board(BOARD), net, build_root=tmp_path_factory.mktemp("renode"))


@pytest.fixture(scope="module")
def device_exe(net, tmp_path_factory, require_tool):
    require_tool("gcc")
    return hostfw.build_host_firmware(net, tmp_path_factory.mktemp("renode-dev"), name="dev")


def test_script_builds_the_machine_from_the_board_file(tmp_path):
    board = load_board(BOARD)
    elf = tmp_path / "fw.elf"
    script = RenodeRunner(board, elf, tmp_path).script(4567)
    lines = script.splitlines()
    assert "machine LoadPlatformDescription @platforms/cpus/stm32f746.repl" in lines
    assert f"sysbus LoadELF @{elf.resolve()}" in lines
    assert "sysbus.cpu VectorTableOffset 0x08000000" in lines  # start of flash
    # emitConfig false: no telnet negotiation bytes in front of the protocol.
    assert 'emulation CreateServerSocketTerminal 4567 "hil_uart" false' in lines
    assert "connector Connect sysbus.usart3 hil_uart" in lines
    assert lines[-1] == "start"


def test_paths_with_spaces_are_quoted_and_quotes_refused(tmp_path):
    board = load_board(BOARD)
    spaced = tmp_path / "my builds" / "fw.elf"
    assert f'sysbus LoadELF @"{spaced.resolve()}"' in RenodeRunner(board, spaced, tmp_path).script(
        1
    )
    with pytest.raises(ConfigError, match="double quote"):
        RenodeRunner(board, tmp_path / 'a"b.elf', tmp_path).script(1)


def test_missing_renode_says_how_to_install_it(image, tmp_path, monkeypatch):
    monkeypatch.delenv(RENODE_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DeviceError) as err:
        with runner_for(load_board(BOARD), image.elf, tmp_path):
            pass
    assert "renode not found" in err.value.message and RENODE_ENV in err.value.hint


def test_renode_env_must_name_an_executable(image, tmp_path, monkeypatch):
    monkeypatch.setenv(RENODE_ENV, str(tmp_path / "nothing"))
    with pytest.raises(DeviceError, match="is not an executable"):
        with runner_for(load_board(BOARD), image.elf, tmp_path):
            pass


def test_renode_that_fails_is_reported_with_its_output(image, tmp_path, monkeypatch):
    monkeypatch.setenv(RENODE_ENV, str(FAKE))
    monkeypatch.setenv("FAKE_RENODE_FAIL", "1")
    with pytest.raises(DeviceError) as err:
        with runner_for(load_board(BOARD), image.elf, tmp_path):
            pass
    assert "exited with status 2" in err.value.message
    assert "renode-f746.renode.log" in err.value.message
    assert "Could not find file" in err.value.hint


@pytest.mark.slow  # over 5 s
def test_a_whole_session_through_the_renode_runner(net, image, device_exe, tmp_path, monkeypatch):
    monkeypatch.setenv(RENODE_ENV, str(FAKE))
    monkeypatch.setenv("FAKE_RENODE_DEVICE", str(device_exe))
    board = load_board(BOARD)
    xs = generated_inputs(net, 2, seed=4)
    with open_device(board, image, log_dir=tmp_path, timeout=5) as dev:
        assert isinstance(dev.runner, RenodeRunner) and dev.runner.alive()
        assert dev.counts.name != "dwt"  # an emulator's counts are never silicon cycles
        for x in xs:
            results = dev.session.infer(x, dump="all")
            expected = run_network(net, x, dev.info.variant)
            assert all(np.array_equal(r.output, e.ravel()) for r, e in zip(results, expected))
        process = dev.runner.process
    assert process.poll() is not None  # stopped with the session
    assert "machine started" in (tmp_path / "renode-f746.renode.log").read_text()
    assert (tmp_path / "renode-f746.resc").is_file()
