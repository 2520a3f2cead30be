"""Port descriptions: what each firmware/port/<dir>/port.toml says it builds from.

A port is a board port (one board family: its HAL, startup and linker
script), an architecture port (code every board of one architecture shares,
for the cores it names), a driver port (peripheral drivers several board
families share, configured by a header each of them provides) or the host
port (a POSIX build for tests). A board port names the architecture port it
builds on and the driver ports it uses; the build compiles them all.
firmware/port/README.md states the whole contract.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from hil.config.boards import CORES, Board
from hil.config.toml_file import read_toml
from hil.datadirs import firmware_root
from hil.errors import ConfigError

DESCRIPTION_FILE = "port.toml"
KINDS = ("board", "arch", "driver", "host")
DEFAULT_SOURCES = ("*.c",)
CONTRACT_HINT = "firmware/port/README.md lists the port.toml keys"

# Keys each kind accepts; "kind" and "description" every kind needs.
_REQUIRED = {"board": ("arch", "linker_script"), "arch": ("cores",), "driver": (), "host": ()}
_OPTIONAL = {
    "board": ("sources", "drivers"),
    "arch": ("sources",),
    "driver": ("sources",),
    "host": ("sources",),
}
_NOUN = {"arch": "an architecture port", "driver": "a driver port"}

Fail = Callable[[str], ConfigError]


@dataclass(frozen=True)
class Port:
    """One port directory and what its description says about it."""

    name: str
    directory: Path
    kind: str  # "board" | "arch" | "driver" | "host"
    description: str
    sources: tuple[str, ...]  # globs relative to ``directory``
    arch: str | None = None  # board ports: the architecture port they build on
    linker_script: Path | None = None  # board ports
    drivers: tuple[str, ...] = ()  # board ports: the driver ports they use, in link order
    cores: tuple[str, ...] = ()  # architecture ports: the cores they serve

    def source_files(self) -> list[Path]:
        """The files ``sources`` names, in glob order, each once."""
        found: list[Path] = []
        for pattern in self.sources:
            matches = sorted(p for p in self.directory.glob(pattern) if p.is_file())
            if not matches:
                raise ConfigError(
                    f"{self.directory / DESCRIPTION_FILE}: sources pattern {pattern!r} "
                    f"matches no file in {self.directory}; fix the pattern or add the file",
                    hint=CONTRACT_HINT,
                )
            found += [p for p in matches if p not in found]
        return found


@dataclass(frozen=True)
class BoardPorts:
    """The ports one board's image is built from: its family's, its drivers', then
    its architecture's (the link order)."""

    board: Port
    arch: Port
    drivers: tuple[Port, ...] = ()

    def source_files(self) -> list[Path]:
        files = self.board.source_files()
        for driver in self.drivers:
            files += driver.source_files()
        return files + self.arch.source_files()

    @property
    def linker_script(self) -> Path:
        assert self.board.linker_script is not None  # load_port requires it of board ports
        return self.board.linker_script


def port_names(root: Path | None = None) -> tuple[str, ...]:
    """Every directory under firmware/port (a valid port or not)."""
    ports = (root or firmware_root()) / "port"
    return tuple(sorted(p.name for p in ports.iterdir() if p.is_dir())) if ports.is_dir() else ()


def load_port(name: str, root: Path | None = None) -> Port:
    """Read and check firmware/port/<name>/port.toml (``root`` defaults to the firmware tree)."""
    directory = (root or firmware_root()) / "port" / name
    path = directory / DESCRIPTION_FILE
    if not path.is_file():
        raise ConfigError(
            f"{path} does not exist; every port directory needs a port.toml with a [port] table",
            hint=CONTRACT_HINT,
        )
    data = read_toml(path, "port description", hint=CONTRACT_HINT)
    return _parse(data, path)


def ports_for_board(board: Board, root: Path | None = None) -> BoardPorts:
    """The board port of ``board.family`` with the architecture and driver ports
    it names, refusing a core that architecture port does not serve."""
    family = load_port(board.family, root)
    if family.kind != "board":
        raise ConfigError(
            f"board {board.id}: family {board.family!r} is {_a(family.kind)} port, "
            "not a board port; name a board port as its family",
            hint=CONTRACT_HINT,
        )
    assert family.arch is not None  # load_port requires it of board ports
    arch = _named_port(family, "arch is", family.arch, "arch", root)
    drivers = tuple(_named_port(family, "drivers names", d, "driver", root) for d in family.drivers)
    if board.core not in arch.cores:
        raise ConfigError(
            f"board {board.id} has core {board.core}, which port {arch.name} does not serve "
            f"(it serves {', '.join(arch.cores)}); pick a served core or add an architecture "
            f"port for {board.core}",
            hint=CONTRACT_HINT,
        )
    return BoardPorts(family, arch, drivers)


def _named_port(family: Port, said: str, name: str, kind: str, root: Path | None) -> Port:
    """The port of ``kind`` that ``family``'s port.toml names (``said``: "arch is", ...)."""
    where = f"{family.directory / DESCRIPTION_FILE}: {said} {name!r}"
    if "/" in name or name in (".", "..") or not (family.directory.parent / name).is_dir():
        raise ConfigError(
            f"{where}, which is no directory under {family.directory.parent}; "
            f"name {_NOUN[kind]} there",
            hint=CONTRACT_HINT,
        )
    port = load_port(name, root)
    if port.kind != kind:
        raise ConfigError(
            f'{where}, {_a(port.kind)} port; name {_NOUN[kind]} (kind = "{kind}")',
            hint=CONTRACT_HINT,
        )
    return port


def _parse(data: dict[str, Any], path: Path) -> Port:
    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{path}: {problem}", hint=CONTRACT_HINT)

    extra = sorted(set(data) - {"port"})
    if extra:
        raise fail(f"unknown table or key {extra[0]!r}; everything goes in the [port] table")
    table = data.get("port")
    if not isinstance(table, dict):
        raise fail("has no [port] table; add one with kind and description")
    kind = _string(table, "kind", fail)
    if kind not in KINDS:
        raise fail(f"[port] kind is {kind!r}; use one of {', '.join(KINDS)}")
    allowed = ("kind", "description", *_REQUIRED[kind], *_OPTIONAL[kind])
    for key in table:
        if key not in allowed:
            raise fail(
                f"[port] {key} is not a key of {_a(kind)} port; "
                f"{_a(kind)} port takes {', '.join(allowed)}"
            )
    for key in _REQUIRED[kind]:
        if key not in table:
            raise fail(f"[port] {key} is missing; {_a(kind)} port needs it")

    directory = path.parent
    sources = _strings(table, "sources", fail) if "sources" in table else DEFAULT_SOURCES
    for pattern in sources:
        pure = PurePosixPath(pattern)
        if pure.is_absolute() or ".." in pure.parts:
            raise fail(
                f"[port] sources pattern {pattern!r} leaves the port directory; make it relative"
            )
    port = Port(
        name=directory.name,
        directory=directory,
        kind=kind,
        description=_string(table, "description", fail),
        sources=sources,
    )
    if kind == "board":
        script = directory / _string(table, "linker_script", fail)
        if not script.is_file():
            raise fail(
                f"[port] linker_script {script.name!r} is not a file in {directory}; fix the name"
            )
        drivers = _strings(table, "drivers", fail) if "drivers" in table else ()
        twice = [d for i, d in enumerate(drivers) if d in drivers[:i]]
        if twice:
            raise fail(f"[port] drivers names {twice[0]!r} twice; name each driver port once")
        return replace(
            port, arch=_string(table, "arch", fail), linker_script=script, drivers=drivers
        )
    if kind == "arch":
        cores = _strings(table, "cores", fail)
        unknown = [c for c in cores if c not in CORES]
        if unknown:
            raise fail(f"[port] cores names {unknown[0]!r}; known cores: {', '.join(CORES)}")
        return replace(port, cores=cores)
    return port


def _string(table: dict[str, Any], key: str, fail: Fail) -> str:
    if key not in table:
        raise fail(f"[port] {key} is missing; add it")
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise fail(f"[port] {key} must be a non-empty string, not {value!r}")
    return value


def _strings(table: dict[str, Any], key: str, fail: Fail) -> tuple[str, ...]:
    value = table.get(key)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise fail(f"[port] {key} must be a non-empty list of strings, not {value!r}")
    return tuple(value)


def _a(kind: str) -> str:
    """The kind with its article: "a board", "an arch"."""
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())
