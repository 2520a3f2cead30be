"""The lab file: which probe and port each board on this bench uses.

Board files say what a board is; the lab file says where this bench's copy
of it is plugged in, so board files stay shareable::

    # lab.toml
    [boards.nucleo-f746]
    probe = "066DFF485457725187092531"   # pyOCD unique id, or "remote:HOST:PORT"
    port = "/dev/ttyACM0"                # optional: any pyserial URL
    pack = "packs/Keil.STM32F7xx_DFP.2.16.0.pack"  # optional, relative to this file
    frequency = 4000000                  # optional SWD clock in Hz

    [boards.qemu-m4]
    place = "farm-m4-1"                  # or: a labgrid place, instead of probe and port

    [labgrid]
    coordinator = "farm.example.org:20408"  # the coordinator places are asked of

Where it is read from: the ``--lab`` option, else ``$HIL_LAB``, else
``./lab.toml`` when it exists. Every key is checked when the file loads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hil.config.toml_file import read_toml
from hil.errors import ConfigError

ENV_VAR = "HIL_LAB"
DEFAULT_NAME = "lab.toml"
BOARD_KEYS = ("probe", "port", "pack", "frequency", "place")
LABGRID_KEYS = ("coordinator",)
EXAMPLE = '[boards.nucleo-f746]\nprobe = "066DFF485457725187092531"\nport = "/dev/ttyACM0"'


@dataclass(frozen=True)
class LabBoard:
    """One board's wiring on this bench; every field is optional."""

    probe: str | None = None
    port: str | None = None
    pack: Path | None = None
    frequency: int | None = None
    place: str | None = None  # a labgrid place that holds this board


@dataclass(frozen=True)
class Lab:
    path: Path | None = None
    boards: dict[str, LabBoard] = field(default_factory=dict)
    coordinator: str | None = None  # [labgrid] coordinator: HOST[:PORT]

    def board(self, board_id: str) -> LabBoard:
        """The wiring of ``board_id``; an empty entry when the lab file does not name it."""
        return self.boards.get(board_id, LabBoard())


def lab_path(explicit: str | Path | None = None) -> Path | None:
    """The lab file to read: explicit > $HIL_LAB > ./lab.toml (if present) > none."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    default = Path(DEFAULT_NAME)
    return default if default.is_file() else None


def load_lab(explicit: str | Path | None = None) -> Lab:
    """Load and validate the lab file (an empty Lab when there is none)."""
    path = lab_path(explicit)
    if path is None:
        return Lab()
    if not path.is_file():
        source = "--lab" if explicit else f"${ENV_VAR}"
        raise ConfigError(
            f"lab file {path} (from {source}) does not exist", hint=f"create it, e.g.\n{EXAMPLE}"
        )
    data = read_toml(path, "lab file", hint=f"fix the syntax; a lab file looks like:\n{EXAMPLE}")
    return parse_lab(data, path)


def _fail(path: Path, key: str, problem: str) -> ConfigError:
    return ConfigError(
        f"lab file {path}: {key} {problem}", hint=f"a lab file looks like:\n{EXAMPLE}"
    )


def parse_lab(data: dict, path: Path) -> Lab:
    for key in data:
        if key not in ("boards", "labgrid"):
            raise _fail(path, key, "is not a lab setting (known: boards, labgrid)")
    boards = data.get("boards", {})
    if not isinstance(boards, dict):
        raise _fail(path, "boards", "must be a table of [boards.<board id>] tables")
    return Lab(
        path,
        {name: _board(path, name, entry) for name, entry in boards.items()},
        coordinator=_coordinator(path, data.get("labgrid", {})),
    )


def _coordinator(path: Path, table: object) -> str | None:
    if not isinstance(table, dict):
        raise _fail(path, "labgrid", "must be a table ([labgrid] with coordinator = ...)")
    for key in table:
        if key not in LABGRID_KEYS:
            raise _fail(
                path,
                f"labgrid.{key}",
                f"is not a labgrid setting (known: {', '.join(LABGRID_KEYS)})",
            )
    value = table.get("coordinator")
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _fail(path, "labgrid.coordinator", f"must be HOST[:PORT], not {value!r}")
    return value


def _board(path: Path, name: str, entry: object) -> LabBoard:
    where = f"boards.{name}"
    if not isinstance(entry, dict):
        raise _fail(path, where, "must be a table (probe, port, pack, frequency, place)")
    for key in entry:
        if key not in BOARD_KEYS:
            raise _fail(
                path,
                f"{where}.{key}",
                f"is not a lab board setting (known: {', '.join(BOARD_KEYS)})",
            )
    for key in ("probe", "port", "pack", "place"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise _fail(path, f"{where}.{key}", f"must be a non-empty string, not {value!r}")
    frequency = entry.get("frequency")
    if frequency is not None and (
        isinstance(frequency, bool) or not isinstance(frequency, int) or frequency <= 0
    ):
        raise _fail(
            path, f"{where}.frequency", f"must be a positive integer (Hz), not {frequency!r}"
        )
    pack = Path(entry["pack"]) if entry.get("pack") else None
    if pack is not None and not pack.is_absolute():
        pack = path.parent / pack
    if entry.get("place") and (entry.get("probe") or entry.get("port")):
        raise _fail(
            path, f"{where}.place", "and probe/port both given: a place brings its own wiring"
        )
    return LabBoard(
        probe=entry.get("probe"),
        port=entry.get("port"),
        pack=pack,
        frequency=frequency,
        place=entry.get("place"),
    )
