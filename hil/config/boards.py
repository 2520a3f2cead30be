"""Boards: what a board is (plain data), loaded and validated from boards/*.toml.

A board file says which core and memory a board has and how it is reached
(``kind``: qemu, pyocd, renode); it never holds lab wiring such as probe
serial numbers or tty paths. Every check runs at load time so a bad file
fails with a message naming the file and the key.

QEMU timing: under ``-icount shift=S`` every instruction advances virtual
time by 2**S ns and the port's timer counts the 25 MHz clock (40 ns), so
``instructions = ticks * 40 / 2**S``. The shipped boards use S=7: one
instruction is 3.2 ticks, so rounding ``ticks * 40 / 128`` recovers the exact
instruction count whatever the timer's phase when a layer starts (a coarser
tick would let the phase, which depends on when host bytes arrived, move a
count by one tick between runs).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil.datadirs import data_dir
from hil.errors import ConfigError

KINDS = ("qemu", "pyocd", "renode")
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

QEMU_TICK_NS = 40  # the mps2 timer on the 25 MHz clock


def icount_instructions_per_tick(shift: int) -> float:
    """Executed instructions per timer tick under ``-icount shift=shift``."""
    return QEMU_TICK_NS / 2**shift


@dataclass(frozen=True)
class MemoryRegion:
    origin: int
    size: int

    @property
    def end(self) -> int:
        return self.origin + self.size


@dataclass(frozen=True)
class CpuFlags:
    mcpu: str
    mfpu: str | None
    float_abi: str

    def gcc_flags(self) -> tuple[str, ...]:
        flags = [f"-mcpu={self.mcpu}", "-mthumb", f"-mfloat-abi={self.float_abi}"]
        if self.mfpu:
            flags.append(f"-mfpu={self.mfpu}")
        return tuple(flags)


@dataclass(frozen=True)
class QemuSpec:
    machine: str
    icount_shift: int = 7

    def instructions(self, ticks: int) -> float:
        """Executed instructions for a timer count taken under -icount."""
        return ticks * icount_instructions_per_tick(self.icount_shift)


@dataclass(frozen=True)
class RenodeSpec:
    """Where the image runs in Renode: a platform description from Renode's own
    tree (``@platforms/...``), the peripheral that is the host link, and the CPU."""

    platform: str
    uart: str
    cpu: str = "sysbus.cpu"


@dataclass(frozen=True)
class UsbId:
    """The USB identity of a board's debug probe and its virtual COM port."""

    vid: int
    pids: tuple[int, ...]


@dataclass(frozen=True)
class Board:
    id: str
    description: str
    kind: str
    family: str
    core: str
    variant: str
    cpu: CpuFlags
    flash: MemoryRegion
    ram: MemoryRegion
    baud: int = 115200
    stack_size: int = 0x8000
    # Device watchdog floor: ms without progress before it fires (0: off).
    # Device time: virtual time under QEMU -icount. Raised per image for the
    # model's largest layer (hil.firmware.watchdog).
    watchdog_ms: int = 10_000
    clock_hz: int | None = None  # core clock of a real board, for the watchdog's scaling
    qemu: QemuSpec | None = None
    target: str | None = None  # pyOCD target name (kind "pyocd")
    usb: UsbId | None = None  # probe/VCP USB ids (kind "pyocd")
    renode: RenodeSpec | None = None  # kind "renode"
    source: Path | None = None  # the file it was loaded from

    @property
    def has_dsp(self) -> bool:
        return self.variant == "dsp"


DEFAULT_BOARD = "qemu-m7"  # the emulated board every command uses when none is named


def boards_dir() -> Path:
    """$HIL_BOARDS_DIR, else boards/ as installed with hil (or the checkout's)."""
    env = os.environ.get("HIL_BOARDS_DIR")
    return Path(env) if env else data_dir("boards")


def known_families() -> tuple[str, ...]:
    """A family exists when the firmware has a port for it."""
    from hil.datadirs import firmware_root

    port = firmware_root() / "port"
    if not port.is_dir():
        return ()
    return tuple(sorted(p.name for p in port.iterdir() if p.is_dir() and p.name != "common"))


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
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read board file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"board file {path} is not valid TOML: {exc}", hint="fix the syntax"
        ) from exc
    return parse_board(data, path)


_TOML_TYPES = {dict: "table", str: "string", int: "integer", list: "list"}


class _Fields:
    """Typed access to one table of a board file, errors naming file and key."""

    def __init__(self, data: Any, path: Path, prefix: str = "") -> None:
        self.path, self.prefix = path, prefix
        if not isinstance(data, dict):
            self.fail(prefix.rstrip(".") or "file", "must be a table")
        self.data = data

    def fail(self, key: str, problem: str) -> None:
        raise ConfigError(
            f"board file {self.path}: {self.prefix}{key} {problem}",
            hint="see boards/qemu-m7.toml for a complete example",
        )

    def get(self, key: str, typ: type, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                self.fail(key, "is missing")
            return default
        value = self.data[key]
        if typ is int and (isinstance(value, bool) or not isinstance(value, int)):
            self.fail(key, f"must be an integer, not {value!r}")
        if not isinstance(value, typ):
            self.fail(key, f"must be a {_TOML_TYPES.get(typ, typ.__name__)}, not {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> Any:
        value = self.get(key, str, default)
        if value is not None and value not in choices:
            self.fail(key, f"is {value!r}; expected one of {', '.join(choices)}")
        return value

    def table(self, key: str, required: bool = True) -> "_Fields | None":
        if key not in self.data and not required:
            return None
        return _Fields(self.get(key, dict), self.path, f"{self.prefix}{key}.")


def _region(fields: _Fields, key: str) -> MemoryRegion:
    t = fields.table(key)
    origin, size = t.get("origin", int), t.get("size", int)
    if origin < 0 or size <= 0 or origin + size > 2**32:
        t.fail("size", f"gives a region outside the 32-bit address space ({origin:#x} + {size:#x})")
    return MemoryRegion(origin, size)


_LAB_KEYS = ("probe", "port", "unique_id", "serial")


def _pyocd_target(fields: _Fields) -> str:
    p = fields.table("pyocd")
    for key in p.data:
        if key in _LAB_KEYS:
            raise ConfigError(
                f"board file {fields.path}: pyocd.{key} is lab wiring, not a board setting",
                hint="put probe ids and ports in the lab file (lab.toml, see the README's lab-bench section)",
            )
        if key != "target":
            p.fail(key, "is not a pyocd setting (known: target)")
    return p.get("target", str)


def _usb(fields: _Fields) -> UsbId | None:
    u = fields.table("usb", required=False)
    if u is None:
        return None
    vid = u.get("vid", int)
    pids = u.get("pids", list, [])
    if not 0 < vid <= 0xFFFF:
        u.fail("vid", f"is {vid:#x}; a USB vendor id is 0x0001..0xffff")
    if any(isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 0xFFFF for p in pids):
        u.fail("pids", f"must be a list of USB product ids (0x0000..0xffff), not {pids!r}")
    for key in u.data:
        if key not in ("vid", "pids"):
            u.fail(key, "is not a usb setting (known: vid, pids)")
    return UsbId(vid=vid, pids=tuple(pids))


def parse_board(data: dict, path: Path) -> Board:
    f = _Fields(data, path)
    board_id = f.get("id", str, path.stem)
    if board_id != path.stem:
        f.fail("id", f"is {board_id!r} but the file is named {path.name}; they must agree")
    kind = f.choice("kind", KINDS)
    families = known_families()
    family = f.get("family", str)
    if family not in families:
        f.fail(
            "family", f"is {family!r}; firmware ports exist for: {', '.join(families) or 'none'}"
        )
    core = f.choice("core", tuple(CORES))
    variant = f.choice("variant", VARIANTS)
    dsp, fpus = CORES[core]
    if dsp is not None and (variant == "dsp") != dsp:
        f.fail(
            "variant",
            f"is {variant!r} but {core} {'has' if dsp else 'has no'} DSP extension; use {'dsp' if dsp else 'plain'!r}",
        )

    c = f.table("cpu")
    mcpu = c.get("mcpu", str)
    if mcpu.split("+")[0] != core:
        c.fail("mcpu", f"is {mcpu!r} but core is {core!r}")
    mfpu = c.get("mfpu", str, None)
    if mfpu is not None and mfpu not in fpus:
        c.fail("mfpu", f"is {mfpu!r}; {core} supports {', '.join(fpus) or 'no FPU'}")
    float_abi = c.choice("float_abi", FLOAT_ABIS)
    if float_abi != "soft" and mfpu is None:
        c.fail("float_abi", f"is {float_abi!r} but no mfpu is given; use 'soft' or name the FPU")

    m = f.table("memory")
    flash, ram = _region(m, "flash"), _region(m, "ram")
    if flash.origin < ram.end and ram.origin < flash.end:
        m.fail("ram", "overlaps memory.flash")

    baud = f.get("baud", int, 115200)
    if baud <= 0:
        f.fail("baud", "must be positive")
    stack_size = f.get("stack_size", int, 0x8000)
    if stack_size < 1024 or stack_size % 8 or stack_size >= ram.size:
        f.fail("stack_size", "must be a multiple of 8, at least 1024 and smaller than RAM")

    watchdog_ms = f.get("watchdog_ms", int, 10_000)
    if not 0 <= watchdog_ms <= 3_600_000:
        f.fail("watchdog_ms", f"is {watchdog_ms}; use 0 (no watchdog) up to 3600000 ms")
    clock_hz = f.get("clock_hz", int, None)
    if clock_hz is not None and clock_hz <= 0:
        f.fail("clock_hz", "must be positive (the core clock in Hz)")

    qemu = None
    q = f.table("qemu", required=(kind == "qemu"))
    if q is not None:
        shift = q.get("icount_shift", int, 7)
        if not 0 <= shift <= 10:
            q.fail("icount_shift", f"is {shift}; QEMU accepts 0..10")
        qemu = QemuSpec(machine=q.get("machine", str), icount_shift=shift)
    renode = None
    r = f.table("renode", required=(kind == "renode"))
    if r is not None:
        renode = RenodeSpec(
            platform=r.get("platform", str),
            uart=r.get("uart", str),
            cpu=r.get("cpu", str, "sysbus.cpu"),
        )
        for key in r.data:
            if key not in ("platform", "uart", "cpu"):
                r.fail(key, "is not a renode setting (known: cpu, platform, uart)")
    target = None
    if kind == "pyocd":
        target = _pyocd_target(f)
    usb = _usb(f)

    known = {
        "id",
        "description",
        "kind",
        "family",
        "core",
        "variant",
        "cpu",
        "memory",
        "baud",
        "stack_size",
        "watchdog_ms",
        "clock_hz",
        "qemu",
        "pyocd",
        "usb",
        "renode",
    }
    for key in data:
        if key not in known:
            f.fail(key, f"is not a board setting (known: {', '.join(sorted(known))})")

    return Board(
        id=board_id,
        description=f.get("description", str),
        kind=kind,
        family=family,
        core=core,
        variant=variant,
        cpu=CpuFlags(mcpu=mcpu, mfpu=mfpu, float_abi=float_abi),
        flash=flash,
        ram=ram,
        baud=baud,
        stack_size=stack_size,
        watchdog_ms=watchdog_ms,
        clock_hz=clock_hz,
        qemu=qemu,
        target=target,
        usb=usb,
        renode=renode,
        source=path,
    )
