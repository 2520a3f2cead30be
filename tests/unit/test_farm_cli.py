"""The farm options through the real `hil` entry: refusals before any coordinator is
contacted, and an unreachable coordinator as one DeviceError line.

Each refusal exits 2 with one ``error:`` line and one ``hint:`` line, no
traceback, and no coordinator session was opened (the --coordinator given is
a refused loopback port wherever a place is asked for, so a refusal that came
too late would still end).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hil.cli import main
from hil.cli.option_groups import farm_request
from hil.config.boards import load_board
from hil.config.lab import Lab, LabBoard
from hil.errors import ConfigError, DeviceError
from hil.farm.coordinator import CoordinatorClient
from hil.farm.request import FarmRequest

NOWHERE = "127.0.0.1:1"  # loopback, nothing listens: a connection is refused at once


def hil(args: list[str], tmp_path: Path, capsys) -> tuple[int, str]:
    code = main([*args, "--build-dir", str(tmp_path / "build")])
    out = capsys.readouterr()
    return code, out.err + out.out


def error_lines(text: str) -> tuple[str, str]:
    """The one error line and the one hint line of a refusal."""
    assert "Traceback" not in text, text
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    hints = [line for line in text.splitlines() if line.startswith("hint:")]
    assert len(errors) == 1 and len(hints) == 1, text
    return errors[0], hints[0]


@pytest.fixture
def sessions(monkeypatch, tmp_path) -> list[str]:
    """The coordinators a session was opened with (the real client, still connecting)."""
    opened: list[str] = []
    real_open = CoordinatorClient.open

    def recording_open(self):
        opened.append(self.address)
        return real_open(self)

    monkeypatch.setattr(CoordinatorClient, "open", recording_open)
    monkeypatch.delenv("HIL_LAB", raising=False)
    monkeypatch.delenv("LG_COORDINATOR", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./lab.toml of the developer's
    return opened


REFUSALS = [
    (
        "place-and-reserve",
        ["run", "--place", "A", "--reserve", "board=qemu-m4"],
        "--place and --reserve both given",
    ),
    (
        "place-and-port",
        ["run", "--place", "A", "--port", "socket://x:1"],
        "--port and --place both given",
    ),
    ("wait-without-place", ["run", "--wait"], "--wait is for labgrid places"),
    ("place-and-devices", ["run", "--place", "A", "--devices", "2"], "--devices 2 and --place"),
    ("reserve-not-a-pair", ["run", "--reserve", "x"], "'x' is not a tag=value pair"),
    (
        "attach-without-port",
        ["run", "--board", "qemu-m7", "--attach"],
        "--attach on qemu-m7: no port to attach to",
    ),
    ("flash-place-and-probe", ["flash", "--place", "A", "--probe", "UID"], "--probe and --place"),
]


@pytest.mark.parametrize("args, problem", [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_farm_options_are_refused_before_any_coordinator_is_contacted(
    args, problem, tmp_path, capsys, sessions
):
    farm = ["--coordinator", NOWHERE] if {"--place", "--reserve"} & set(args) else []
    code, text = hil([*args, "--model", "lenet5", *farm], tmp_path, capsys)
    assert code == ConfigError.exit_code, text
    error, hint = error_lines(text)
    assert problem in error
    assert len(hint) > len("hint: ")
    assert sessions == []


def test_coordinator_without_a_place_is_refused(tmp_path, capsys, sessions):
    code, text = hil(["run", "--model", "lenet5", "--coordinator", NOWHERE], tmp_path, capsys)
    assert code == ConfigError.exit_code
    error, hint = error_lines(text)
    assert "--coordinator is for labgrid places, and none is asked for" in error
    assert "--place NAME or --reserve TAGS" in hint and sessions == []


def test_an_unreachable_coordinator_is_one_device_error_naming_it(tmp_path, capsys, sessions):
    args = ["run", "--model", "lenet5", "--place", "A", "--coordinator", NOWHERE]
    code, text = hil(args, tmp_path, capsys)
    assert code == DeviceError.exit_code, text
    error, hint = error_lines(text)
    assert f"cannot reach the labgrid coordinator at {NOWHERE}" in error
    assert "labgrid-coordinator" in hint and "--coordinator HOST:PORT" in hint
    assert sessions == [NOWHERE]
    # The session's event loop thread ended with it.
    assert not [t for t in threading.enumerate() if t.name == "labgrid-client" and t.is_alive()]
    assert not (tmp_path / "build").exists() or not any((tmp_path / "build").rglob("*.elf"))


@pytest.mark.parametrize("how", ["./lab.toml", "--lab"])
def test_the_lab_files_place_and_coordinator_are_used(how, tmp_path, capsys, sessions):
    # For the default board, qemu-m7; the working directory is tmp_path.
    lab = tmp_path / ("lab.toml" if how == "./lab.toml" else "bench.toml")
    lab.write_text(f'[boards.qemu-m7]\nplace = "m7-1"\n\n[labgrid]\ncoordinator = "{NOWHERE}"\n')
    named = ["--lab", str(lab)] if how == "--lab" else []
    code, text = hil(["run", "--model", "lenet5", *named], tmp_path, capsys)
    assert code == DeviceError.exit_code, text
    assert f"cannot reach the labgrid coordinator at {NOWHERE}" in error_lines(text)[0]
    assert sessions == [NOWHERE]


# -- farm_request: what the options ask of the farm ------------------------------------------


def options(**given) -> dict:
    return {"place": None, "reserve": None, "wait": False, "coordinator": None, **given}


def test_reserve_with_a_given_board_narrows_the_tags():
    board = load_board("qemu-m4")
    asked = farm_request(options(reserve="rack=2", wait=True), None, board, board_given=True)
    assert asked == FarmRequest(
        "127.0.0.1:20408", tags={"rack": "2", "board": "qemu-m4"}, wait=True, source="--reserve"
    )
    untold = farm_request(options(reserve="rack=2"), None, board, board_given=False)
    assert untold.tags == {"rack": "2"} and untold.reserves


def test_a_lab_place_gives_way_to_a_port_and_names_the_lab_file(tmp_path):
    path = tmp_path / "lab.toml"
    lab = Lab(path, {"qemu-m4": LabBoard(place="m4-1")}, coordinator="farm:20408")
    board = load_board("qemu-m4")
    asked = farm_request(options(), lab, board, board_given=True)
    assert (asked.place, asked.coordinator) == ("m4-1", "farm:20408")
    assert asked.source == f"lab file {path}: boards.qemu-m4.place"
    assert farm_request(options(port="socket://127.0.0.1:9"), lab, board, True) is None
    given = farm_request(options(place="m4-2", coordinator="other:1"), lab, board, True)
    assert (given.place, given.coordinator, given.source) == ("m4-2", "other:1", "--place")
