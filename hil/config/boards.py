"""Boards: what a board is (plain data), loaded and validated from boards/*.toml.

A board file says which core and memory a board has and how it is reached
(``kind``: qemu, pyocd, renode); it never holds lab wiring such as probe
serial numbers or tty paths. Every check runs at load time so a bad file
fails with a message naming the file and the key.

QEMU timing: under ``-icount shift=S`` every instruction advances virtual
time by 2**S ns and the port's timer counts a fixed clock (``[qemu] timer_hz``:
25 MHz, 40 ns, on the mps2 machines; 32 MHz, 31.25 ns, on mps3-an547), so
``instructions = ticks * (1e9 / timer_hz) / 2**S``. The shipped boards use
S=7: one instruction is 3.2 ticks (4.096 on mps3-an547), so rounding recovers
the exact instruction count whatever the timer's phase when a layer starts (a
coarser tick would let the phase, which depends on when host bytes arrived,
move a count by one tick between runs).
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NoReturn, TypeVar

from hil.config.lab import BOARD_KEYS as LAB_BOARD_KEYS
from hil.config.toml_file import read_toml
from hil.datadirs import data_dir
from hil.errors import ConfigError

VARIANTS = ("dsp", "plain")
FLOAT_ABIS = ("soft", "softfp", "hard")

# What gcc's -mcpu names imply: (DSP extension, FPUs the core can carry).
# None for DSP means the extension is optional on that core.
CORES: dict[str, tuple[bool | None, tuple[str, ...]]] = {
    "cortex-m0": (False, ()),
    "cortex-m0plus": (False, ()),
    "cortex-m3": (False, ()),
    "cortex-m4": (True, ("fpv4-sp-d16",)),
    "cortex-m7": (True, ("fpv5-sp-d16", "fpv5-d16")),
    "cortex-m33": (None, ("fpv5-sp-d16",)),
    "cortex-m55": (True, ("fpv5-d16", "auto")),
}

QEMU_TIMER_HZ = 25_000_000  # the mps2 ports' timer, unless a board file says otherwise


def icount_instructions_per_tick(shift: int, timer_hz: int = QEMU_TIMER_HZ) -> float:
    """Executed instructions per tick of a ``timer_hz`` timer under ``-icount shift=shift``."""
    return 1e9 / timer_hz / 2**shift


def _one_of(choices: tuple[str, ...]) -> dict[str, Any]:
    """Field metadata: the key takes one of ``choices``."""
    return {"choices": choices}


_IN_MEMORY = {"under": "memory"}  # field metadata: the key sits in the file's [memory] table
_NOT_IN_FILE = {"in_file": False}  # field metadata: set by the loader, never read from the file


@dataclass(frozen=True)
class MemoryRegion:
    origin: int
    size: int

    @property
    def end(self) -> int:
        return self.origin + self.size

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.origin < 0 or self.size <= 0 or self.end > 2**32:
            where = f"({self.origin:#x} + {self.size:#x})"
            yield "size", f"gives a region outside the 32-bit address space {where}"


@dataclass(frozen=True)
class CpuFlags:
    mcpu: str
    float_abi: str = field(metadata=_one_of(FLOAT_ABIS))
    mfpu: str | None = None

    def gcc_flags(self) -> tuple[str, ...]:
        flags = [f"-mcpu={self.mcpu}", "-mthumb", f"-mfloat-abi={self.float_abi}"]
        if self.mfpu:
            flags.append(f"-mfpu={self.mfpu}")
        return tuple(flags)


@dataclass(frozen=True)
class UsbId:
    """The USB identity of a board's debug probe and its virtual COM port."""

    vid: int
    pids: tuple[int, ...] = ()

    def problems(self) -> Iterator[tuple[str, str]]:
        if not 0 < self.vid <= 0xFFFF:
            yield "vid", f"is {self.vid:#x}; a USB vendor id is 0x0001..0xffff"
        for pid in self.pids:
            if not 0 <= pid <= 0xFFFF:
                yield "pids", f"has {pid:#x}; a USB product id is 0x0000..0xffff"


class BoardAccess:
    """How a board is reached. Each kind is a frozen dataclass read from the board
    file's table named after the kind ([qemu], [pyocd], [renode]): its fields are
    that table's keys, with their types and defaults; the class attributes below
    are everything else hil knows about the kind."""

    kind: ClassVar[str]
    emulated: ClassVar[bool]  # the runner starts the device itself: no probe, no real port
    runner: ClassVar[str]  # "module:class" in hil.runners, imported only when used
    lab_wiring: ClassVar[tuple[str, ...]] = ()  # keys that belong in the lab file instead

    def problems(self) -> Iterator[tuple[str, str]]:
        """What is wrong with these settings, as (key, problem) pairs."""
        return iter(())


@dataclass(frozen=True)
class QemuAccess(BoardAccess):
    """A QEMU machine, run under ``-icount shift=icount_shift`` (see the module docstring)."""

    kind = "qemu"
    emulated = True
    runner = "hil.runners.qemu:QemuRunner"

    machine: str
    icount_shift: int = 7
    timer_hz: int = QEMU_TIMER_HZ  # the clock of the timer the port counts with

    def instructions(self, ticks: int) -> float:
        """Executed instructions for a timer count taken under -icount."""
        return ticks * icount_instructions_per_tick(self.icount_shift, self.timer_hz)

    def problems(self) -> Iterator[tuple[str, str]]:
        if not 0 <= self.icount_shift <= 10:
            yield "icount_shift", f"is {self.icount_shift}; QEMU accepts 0..10"
        if not 0 < self.timer_hz <= 1_000_000_000:
            yield "timer_hz", f"is {self.timer_hz}; the port timer's clock in Hz, 1..1e9"


@dataclass(frozen=True)
class PyocdAccess(BoardAccess):
    """A real board behind a debug probe, flashed through pyOCD. Which probe, port,
    pack and SWD clock this bench uses is lab wiring: it lives in the lab file."""

    kind = "pyocd"
    emulated = False
    runner = "hil.runners.pyocd:PyocdRunner"
    lab_wiring = (*LAB_BOARD_KEYS, "unique_id", "serial")

    target: str  # pyOCD target name


@dataclass(frozen=True)
class RenodeAccess(BoardAccess):
    """Where the image runs in Renode: a platform description from Renode's own
    tree (``@platforms/...``), the peripheral that is the host link, and the CPU."""

    kind = "renode"
    emulated = True
    runner = "hil.runners.renode:RenodeRunner"

    platform: str
    uart: str
    cpu: str = "sysbus.cpu"


# Every board kind, in the order messages list them: kind -> its access type.
ACCESS_TYPES: dict[str, type[BoardAccess]] = {
    access.kind: access for access in (QemuAccess, PyocdAccess, RenodeAccess)
}
KINDS = tuple(ACCESS_TYPES)
EMULATED_KINDS = frozenset(kind for kind, access in ACCESS_TYPES.items() if access.emulated)


@dataclass(frozen=True)
class Board:
    """A board file, checked. Its fields are the file's keys (``access`` is the table
    named by ``kind``), so the loader needs no list of keys of its own."""

    id: str
    description: str
    kind: str = field(metadata=_one_of(KINDS))
    family: str
    core: str = field(metadata=_one_of(tuple(CORES)))
    variant: str = field(metadata=_one_of(VARIANTS))
    cpu: CpuFlags
    flash: MemoryRegion = field(metadata=_IN_MEMORY)
    ram: MemoryRegion = field(metadata=_IN_MEMORY)
    baud: int = 115200
    stack_size: int = 0x8000
    # Device watchdog floor: ms without progress before it fires (0: off).
    # Device time: virtual time under QEMU -icount. Raised per image for the
    # model's largest layer (hil.firmware.watchdog).
    watchdog_ms: int = 10_000
    clock_hz: int | None = None  # core clock of a real board, for the watchdog's scaling
    usb: UsbId | None = None  # probe/VCP USB ids (kind "pyocd")
    # Always set on a loaded board; a board built in code without one is refused by runners.
    access: BoardAccess | None = field(default=None, metadata=_NOT_IN_FILE)
    source: Path | None = field(default=None, metadata=_NOT_IN_FILE)  # the file it came from

    def __post_init__(self) -> None:
        if self.access is not None and self.access.kind != self.kind:
            raise ValueError(f"board {self.id}: kind {self.kind!r} with {self.access!r}")

    @property
    def has_dsp(self) -> bool:
        return self.variant == "dsp"

    @property
    def emulated(self) -> bool:
        return ACCESS_TYPES[self.kind].emulated

    @property
    def qemu(self) -> QemuAccess | None:
        return self.access if isinstance(self.access, QemuAccess) else None

    @property
    def renode(self) -> RenodeAccess | None:
        return self.access if isinstance(self.access, RenodeAccess) else None

    @property
    def target(self) -> str | None:
        """The pyOCD target name (kind "pyocd")."""
        return self.access.target if isinstance(self.access, PyocdAccess) else None

    def problems(self) -> Iterator[tuple[str, str]]:
        """Settings that contradict each other or the firmware, as (dotted key, problem)."""
        if self.source is not None and self.id != self.source.stem:
            named = f"the file is named {self.source.name}"
            yield "id", f"is {self.id!r} but {named}; they must agree"
        families = known_families()
        if self.family not in families:
            ports = ", ".join(families) or "none"
            yield "family", f"is {self.family!r}; firmware ports exist for: {ports}"
        dsp, fpus = CORES[self.core]
        if dsp is not None and self.has_dsp != dsp:
            has, use = ("has", "dsp") if dsp else ("has no", "plain")
            yield "variant", f"is {self.variant!r} but {self.core} {has} DSP extension; use {use!r}"
        cpu = self.cpu
        if cpu.mcpu.split("+")[0] != self.core:
            yield "cpu.mcpu", f"is {cpu.mcpu!r} but core is {self.core!r}"
        if cpu.mfpu is not None and cpu.mfpu not in fpus:
            yield "cpu.mfpu", f"is {cpu.mfpu!r}; {self.core} supports {', '.join(fpus) or 'no FPU'}"
        if cpu.float_abi != "soft" and cpu.mfpu is None:
            abi = f"is {cpu.float_abi!r} but no mfpu is given; use 'soft' or name the FPU"
            yield "cpu.float_abi", abi
        if self.flash.origin < self.ram.end and self.ram.origin < self.flash.end:
            yield "memory.ram", "overlaps memory.flash"
        if self.baud <= 0:
            yield "baud", "must be positive"
        if self.stack_size < 1024 or self.stack_size % 8 or self.stack_size >= self.ram.size:
            yield "stack_size", "must be a multiple of 8, at least 1024 and smaller than RAM"
        if not 0 <= self.watchdog_ms <= 3_600_000:
            yield "watchdog_ms", f"is {self.watchdog_ms}; use 0 (no watchdog) up to 3600000 ms"
        if self.clock_hz is not None and self.clock_hz <= 0:
            yield "clock_hz", "must be positive (the core clock in Hz)"


DEFAULT_BOARD = "qemu-m7"  # the emulated board every command uses when none is named


def boards_dir() -> Path:
    """$HIL_BOARDS_DIR, else boards/ as installed with hil (or the checkout's)."""
    env = os.environ.get("HIL_BOARDS_DIR")
    return Path(env) if env else data_dir("boards")


def known_families() -> tuple[str, ...]:
    """A family is a firmware port whose port.toml says kind = "board".

    Reads only ``kind`` (hil.firmware.ports checks the rest at build time; config
    may not import it). A port.toml that does not parse is named, not skipped."""
    from hil.datadirs import firmware_root

    families = []
    for description in sorted((firmware_root() / "port").glob("*/port.toml")):
        data = read_toml(
            description, "port description", hint="firmware/port/README.md lists the port.toml keys"
        )
        port = data.get("port")
        if isinstance(port, dict) and port.get("kind") == "board":
            families.append(description.parent.name)
    return tuple(families)


def load_all_boards(directory: Path | None = None) -> dict[str, Board]:
    directory = directory or boards_dir()
    files = sorted(directory.glob("*.toml"))
    return {b.id: b for b in (load_board_file(f) for f in files)}


def load_board(name: str | Path) -> Board:
    """A board by id (boards/<id>.toml) or by the path of a board file."""
    path = Path(name)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise ConfigError(f"board file {path} does not exist", hint="check the path")
        return load_board_file(path)
    candidate = boards_dir() / f"{name}.toml"
    if candidate.is_file():
        return load_board_file(candidate)
    known = sorted(p.stem for p in boards_dir().glob("*.toml"))
    raise ConfigError(
        f"unknown board {str(name)!r}; known boards: {', '.join(known) or 'none'}",
        hint=f"board files live in {boards_dir()} (one <id>.toml each), or pass a path to a .toml file",
    )


def load_board_file(path: Path) -> Board:
    return parse_board(read_toml(path, "board file"), path)


_EXAMPLE_HINT = "see boards/qemu-m7.toml for a complete example"
_LAB_HINT = "put probe ids and ports in the lab file (lab.toml, see the README's lab-bench section)"
# What a key of each type is called in messages: one, and a list of them.
_TYPE_NAMES = {int: ("an integer", "integers"), str: ("a string", "strings")}

_T = TypeVar("_T")


class _Table:
    """One table of a board file, for messages that name the file and the dotted key."""

    def __init__(self, data: object, path: Path, prefix: str = "") -> None:
        self.path, self.prefix = path, prefix
        if not isinstance(data, dict):
            self.fail(prefix.rstrip(".") or "file", f"must be a table, not {data!r}")
        self.data: dict[str, Any] = data

    def fail(self, key: str, problem: str, hint: str = _EXAMPLE_HINT) -> NoReturn:
        raise ConfigError(f"board file {self.path}: {self.prefix}{key} {problem}", hint=hint)

    def table(self, key: str) -> _Table:
        if key not in self.data:
            self.fail(key, "is missing")
        return _Table(self.data[key], self.path, f"{self.prefix}{key}.")

    def refuse_keys_other_than(self, known: set[str], what: str) -> None:
        for key in self.data:
            if key not in known:
                self.fail(key, f"is not a {what} setting (known: {', '.join(sorted(known))})")


def _read(cls: type[_T], table: _Table, what: str) -> _T:
    """A ``cls`` from one table, its own problems refused."""
    return _checked(cls(**_read_fields(cls, table, what)), table)


def _checked(value: _T, table: _Table) -> _T:
    problems = getattr(value, "problems", None)
    for key, problem in problems() if problems else ():
        table.fail(key, problem)
    return value


def _read_fields(
    cls: type,
    table: _Table,
    what: str,
    also_known: tuple[str, ...] = (),
    fallbacks: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The values of ``cls``'s fields from ``table``. The fields are the schema: their
    names are the keys allowed, their types and defaults say what each key takes."""
    for key in table.data:
        if key in getattr(cls, "lab_wiring", ()):
            table.fail(key, "is lab wiring, not a board setting", hint=_LAB_HINT)
    hints = typing.get_type_hints(cls)
    by_table: dict[str | None, list[dataclasses.Field]] = {}
    for f in dataclasses.fields(cls):
        if f.metadata.get("in_file", True):
            by_table.setdefault(f.metadata.get("under"), []).append(f)
    top_keys = {f.name for f in by_table.get(None, [])} | {t for t in by_table if t}
    table.refuse_keys_other_than(top_keys | set(also_known), what)
    values = {}
    for under, members in by_table.items():
        where = table
        if under is not None:
            where = table.table(under)
            where.refuse_keys_other_than({f.name for f in members}, under)
        for f in members:
            values[f.name] = _read_field(where, f, hints[f.name], fallbacks or {})
    return values


def _read_field(
    table: _Table, f: dataclasses.Field, hint: Any, fallbacks: Mapping[str, Any]
) -> Any:
    if f.name not in table.data:
        if f.default is not dataclasses.MISSING:
            return f.default
        if f.name in fallbacks:
            return fallbacks[f.name]
        table.fail(f.name, "is missing")
    hint = _without_none(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _read(hint, table.table(f.name), f.name)
    value = _typed(table, f.name, table.data[f.name], hint)
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        table.fail(f.name, f"is {value!r}; expected one of {', '.join(choices)}")
    return value


def _without_none(hint: Any) -> Any:
    """``T`` for ``T | None``: an optional key is one with a default of None."""
    if isinstance(hint, types.UnionType):
        rest = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return hint


def _is_a(value: object, typ: type) -> bool:
    # TOML's true is a Python bool, which is also an int: never accept it as a number.
    return isinstance(value, typ) and not (isinstance(value, bool) and typ is not bool)


def _typed(table: _Table, key: str, value: object, hint: Any) -> Any:
    if hint in _TYPE_NAMES:
        if not _is_a(value, hint):
            table.fail(key, f"must be {_TYPE_NAMES[hint][0]}, not {value!r}")
        return value
    item, *rest = typing.get_args(hint) or (None,)
    if typing.get_origin(hint) is tuple and rest == [Ellipsis] and item in _TYPE_NAMES:
        if not isinstance(value, list) or not all(_is_a(v, item) for v in value):
            table.fail(key, f"must be a list of {_TYPE_NAMES[item][1]}, not {value!r}")
        return tuple(value)
    raise TypeError(f"board files have no {hint} settings ({key})")


def parse_board(data: dict, path: Path) -> Board:
    """A Board from a board file's parsed TOML; every problem is a ConfigError
    naming the file and the key."""
    top = _Table(data, path)
    values = _read_fields(Board, top, "board", also_known=KINDS, fallbacks={"id": path.stem})
    kind = values["kind"]
    values["access"] = _read(ACCESS_TYPES[kind], top.table(kind), kind)
    for other in KINDS:
        if other != kind and other in data:
            top.fail(
                other,
                f"is the table of {other} boards, and this board is of kind {kind}",
                hint=f"remove the [{other}] table, or make the board kind = {other!r}",
            )
    return _checked(Board(**values, source=path), top)
