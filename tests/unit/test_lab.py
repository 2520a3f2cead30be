"""The lab file: boards to probes and ports, where it is found, and its validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.config.lab import Lab, LabBoard, lab_path, load_lab
from hil.errors import ConfigError

GOOD = """
[boards.nucleo-f746]
probe = "066DFF485457725187092531"
port = "/dev/ttyACM0"
pack = "packs/Keil.STM32F7xx_DFP.2.16.0.pack"
frequency = 4000000

[boards.other]
probe = "remote:bench2:5555"
"""


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("HIL_LAB", raising=False)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "lab.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_entries_are_read_and_pack_is_relative_to_the_file(tmp_path):
    lab = load_lab(write(tmp_path, GOOD, "bench.toml"))
    assert lab.board("nucleo-f746") == LabBoard(
        probe="066DFF485457725187092531",
        port="/dev/ttyACM0",
        pack=tmp_path / "packs" / "Keil.STM32F7xx_DFP.2.16.0.pack",
        frequency=4000000,
    )
    assert lab.board("other") == LabBoard(probe="remote:bench2:5555")


def test_a_board_the_lab_does_not_name_has_no_wiring(tmp_path):
    assert load_lab(write(tmp_path, GOOD)).board("qemu-m7") == LabBoard()


def test_no_lab_file_anywhere_is_an_empty_lab():
    assert lab_path() is None
    assert load_lab() == Lab()


def test_default_is_lab_toml_in_the_working_directory(tmp_path):
    write(tmp_path, GOOD)
    assert lab_path() == Path("lab.toml")
    assert load_lab().board("nucleo-f746").port == "/dev/ttyACM0"


def test_environment_beats_the_default_and_option_beats_both(tmp_path, monkeypatch):
    write(tmp_path, GOOD)
    env = write(tmp_path, '[boards.nucleo-f746]\nport = "/dev/ttyACM3"\n', "env.toml")
    opt = write(tmp_path, '[boards.nucleo-f746]\nport = "/dev/ttyACM4"\n', "opt.toml")
    monkeypatch.setenv("HIL_LAB", str(env))
    assert load_lab().board("nucleo-f746").port == "/dev/ttyACM3"
    assert load_lab(opt).board("nucleo-f746").port == "/dev/ttyACM4"


def test_a_named_lab_file_that_is_missing_is_an_error(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"nope.toml \(from --lab\) does not exist"):
        load_lab(tmp_path / "nope.toml")
    monkeypatch.setenv("HIL_LAB", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"\(from \$HIL_LAB\) does not exist"):
        load_lab()


@pytest.mark.parametrize(
    "text, problem",
    [
        ("[boards.nucleo-f746\n", "not valid TOML"),
        ("probe = 'x'\n", "probe is not a lab setting"),
        ("boards = 3\n", "boards must be a table"),
        ("[boards]\nnucleo-f746 = 'x'\n", "boards.nucleo-f746 must be a table"),
        (
            "[boards.nucleo-f746]\nprob = 'x'\n",
            "boards.nucleo-f746.prob is not a lab board setting",
        ),
        (
            "[boards.nucleo-f746]\nprobe = 1234\n",
            "boards.nucleo-f746.probe must be a non-empty string",
        ),
        ("[boards.nucleo-f746]\nport = ''\n", "boards.nucleo-f746.port must be a non-empty string"),
        ("[boards.nucleo-f746]\nfrequency = 0\n", "frequency must be a positive integer"),
        ("[boards.nucleo-f746]\nfrequency = '4MHz'\n", "frequency must be a positive integer"),
    ],
)
def test_bad_lab_file_names_file_and_key(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=problem) as err:
        load_lab(path)
    assert str(path) in err.value.message
    assert "[boards.nucleo-f746]" in err.value.hint


# -- labgrid places ---------------------------------------------------------------------------


def test_a_place_and_the_coordinator_are_read(tmp_path):
    text = '[boards.qemu-m4]\nplace = "farm-m4-1"\n\n[labgrid]\ncoordinator = "farm.example.org:20408"\n'
    lab = load_lab(write(tmp_path, text))
    assert lab.board("qemu-m4") == LabBoard(place="farm-m4-1")
    assert lab.coordinator == "farm.example.org:20408"
    assert load_lab(write(tmp_path, GOOD)).coordinator is None


@pytest.mark.parametrize(
    "text, problem",
    [
        (
            "[boards.nucleo-f746]\nplace = 'f7-1'\nprobe = 'remote:b:5555'\n",
            "boards.nucleo-f746.place and probe/port both given",
        ),
        (
            "[boards.nucleo-f746]\nplace = 'f7-1'\nport = '/dev/ttyACM0'\n",
            "boards.nucleo-f746.place and probe/port both given",
        ),
        ("[boards.qemu-m4]\nplace = ''\n", "boards.qemu-m4.place must be a non-empty string"),
        (
            "[labgrid]\nhost = 'farm'\n",
            r"labgrid.host is not a labgrid setting \(known: coordinator\)",
        ),
        ("[labgrid]\ncoordinator = 20408\n", "labgrid.coordinator must be HOST"),
        ("[labgrid]\ncoordinator = ' '\n", "labgrid.coordinator must be HOST"),
        ("labgrid = 'farm'\n", r"labgrid must be a table"),
    ],
)
def test_bad_labgrid_settings_name_file_and_key(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=problem) as err:
        load_lab(path)
    assert str(path) in err.value.message
