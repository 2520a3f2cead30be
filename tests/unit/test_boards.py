"""Board files: the shipped ones load, and every malformed file is refused clearly."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest

from hil.config.boards import (
    ACCESS_TYPES,
    EMULATED_KINDS,
    Board,
    PyocdAccess,
    QemuAccess,
    RenodeAccess,
    boards_dir,
    load_all_boards,
    load_board,
)
from hil.device.counts import count_source
from hil.errors import ConfigError
from hil.runners import RUNNERS

VALID = {
    "description": "test board",
    "kind": "qemu",
    "family": "mps2",
    "core": "cortex-m4",
    "variant": "dsp",
    "baud": 115200,
    "cpu": {"mcpu": "cortex-m4", "mfpu": "fpv4-sp-d16", "float_abi": "hard"},
    "memory": {
        "flash": {"origin": 0, "size": 0x400000},
        "ram": {"origin": 0x20000000, "size": 0x400000},
    },
    "qemu": {"machine": "mps2-an386", "icount_shift": 3},
}


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def to_toml(data: dict) -> str:
    """Enough TOML for board files: scalars, then one level of tables."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def write_board(tmp_path: Path, data: dict, name: str = "test-board") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(to_toml(data))
    return path


def variant_of(**changes) -> dict:
    """VALID with changes; a dotted key edits a nested table, None deletes."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in VALID.items()}
    data["memory"] = {k: dict(v) for k, v in VALID["memory"].items()}
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        table = data
        for p in parents:
            table = table[p]
        if value is None:
            table.pop(leaf, None)
        else:
            table[leaf] = value
    return data


@pytest.mark.parametrize("board_id", ["qemu-m7", "qemu-m4", "qemu-m3"])
def test_shipped_boards_load(board_id: str) -> None:
    board = load_board(board_id)
    assert isinstance(board, Board)
    assert board.id == board_id and board.kind == "qemu" and board.family == "mps2"
    assert board.flash.origin == 0 and board.ram.origin == 0x20000000
    assert board.qemu is not None and board.qemu.machine.startswith("mps2-an")
    assert f"-mcpu={board.core}" in board.cpu.gcc_flags()


def test_shipped_boards_match_their_cores() -> None:
    boards = load_all_boards()
    assert {b: boards[b].variant for b in ("qemu-m7", "qemu-m4", "qemu-m3")} == {
        "qemu-m7": "dsp",
        "qemu-m4": "dsp",
        "qemu-m3": "plain",
    }
    assert [boards[b].qemu.machine for b in ("qemu-m7", "qemu-m4", "qemu-m3")] == [
        "mps2-an500",
        "mps2-an386",
        "mps2-an385",
    ]
    assert "-mfloat-abi=soft" in boards["qemu-m3"].cpu.gcc_flags()


def test_icount_conversion() -> None:
    qemu = load_board("qemu-m7").qemu
    assert qemu.icount_shift == 7
    assert qemu.instructions(3200) == 1000  # 40 ns per tick, 128 ns per instruction


def test_qemu_m55_board() -> None:
    board = load_board("qemu-m55")
    assert (board.family, board.core, board.variant) == ("mps3", "cortex-m55", "dsp")
    assert board.qemu == QemuAccess(machine="mps3-an547", icount_shift=7, timer_hz=32_000_000)
    assert board.qemu.instructions(4096) == 1000  # 31.25 ns per tick, 128 ns per instruction
    assert (board.flash.origin, board.flash.size) == (0, 512 * 1024)  # ITCM
    assert (board.ram.origin, board.ram.size) == (0x20000000, 512 * 1024)  # DTCM
    assert "-mfpu=auto" in board.cpu.gcc_flags() and "-mfloat-abi=hard" in board.cpu.gcc_flags()
    source = count_source("timer", emulated=True, icount_shift=7, timer_hz=board.qemu.timer_hz)
    assert (source.name, source.convert(4096 * 3 + 1)) == ("qemu-icount", 3000)


def test_unknown_board_lists_known_ones_and_where_they_live() -> None:
    with pytest.raises(ConfigError) as err:
        load_board("nope-board")
    assert "qemu-m7" in err.value.message and "nope-board" in err.value.message
    assert str(boards_dir()) in err.value.hint


def test_load_from_path_and_from_env_dir(tmp_path: Path, monkeypatch) -> None:
    path = write_board(tmp_path, VALID)
    assert load_board(path).id == "test-board"
    assert load_board(str(path)).source == path
    monkeypatch.setenv("HIL_BOARDS_DIR", str(tmp_path))
    assert load_board("test-board").core == "cortex-m4"
    assert list(load_all_boards()) == ["test-board"]


def test_missing_board_file_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_board(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"core": None}, "core is missing"),
        ({"description": None}, "description is missing"),
        ({"memory__ram": None}, "memory.ram is missing"),
        ({"cpu": None}, "cpu is missing"),
        ({"baud": "fast"}, "baud must be an integer"),
        ({"baud": True}, "baud must be an integer"),
        ({"description": 3}, "description must be a string"),
        ({"memory": "big"}, "memory must be a table"),
        ({"family": "stm99"}, "family is 'stm99'"),
        ({"kind": "jtag"}, "kind is 'jtag'; expected one of qemu, pyocd, renode"),
        ({"core": "cortex-a53"}, "core is 'cortex-a53'"),
        ({"variant": "plain"}, "cortex-m4 has DSP extension; use 'dsp'"),
        ({"variant": "simd"}, "variant is 'simd'"),
        (
            {
                "core": "cortex-m3",
                "cpu__mcpu": "cortex-m3",
                "cpu__mfpu": None,
                "cpu__float_abi": "soft",
            },
            "cortex-m3 has no DSP extension; use 'plain'",
        ),
        ({"cpu__mcpu": "cortex-m7"}, "mcpu is 'cortex-m7' but core is 'cortex-m4'"),
        ({"cpu__mfpu": "fpv5-d16"}, "cortex-m4 supports fpv4-sp-d16"),
        ({"cpu__mfpu": None}, "float_abi is 'hard' but no mfpu"),
        ({"cpu__float_abi": "floaty"}, "float_abi is 'floaty'"),
        ({"memory__ram": {"origin": 0x1000, "size": 0x1000}}, "overlaps memory.flash"),
        (
            {"memory__flash": {"origin": 0xFFFFF000, "size": 0x2000}},
            "outside the 32-bit address space",
        ),
        ({"memory__flash": {"origin": 0, "size": 0}}, "outside the 32-bit address space"),
        ({"qemu": None}, "qemu is missing"),
        ({"qemu__machine": None}, "qemu.machine is missing"),
        ({"qemu__icount_shift": 11}, "icount_shift is 11"),
        ({"stack_size": 100}, "stack_size must be"),
        ({"watchdog_ms": -1}, "watchdog_ms is -1; use 0 (no watchdog)"),
        ({"watchdog_ms": "long"}, "watchdog_ms must be an integer"),
        ({"clock_hz": 0}, "clock_hz must be positive"),
        ({"id": "other"}, "id is 'other' but the file is named test-board.toml"),
        ({"probe_serial": "0668FF"}, "probe_serial is not a board setting"),
        ({"kind": "pyocd"}, "pyocd is missing"),
        ({"kind": "renode"}, "renode is missing"),
        (
            {"kind": "renode", "renode": {"platform": "platforms/cpus/x.repl"}},
            "renode.uart is missing",
        ),
        (
            {"kind": "renode", "renode": {"platform": "p", "uart": "sysbus.usart1", "port": 1}},
            "renode.port is not a renode setting",
        ),
    ],
)
def test_invalid_board_files_are_refused(tmp_path: Path, changes: dict, expected: str) -> None:
    path = write_board(tmp_path, variant_of(**changes))
    with pytest.raises(ConfigError) as err:
        load_board(path)
    assert expected in err.value.message
    assert str(path) in err.value.message
    assert err.value.hint


def test_pyocd_board_carries_its_target(tmp_path: Path) -> None:
    data = variant_of(kind="pyocd", qemu=None)
    data["pyocd"] = {"target": "stm32f746zgtx"}
    board = load_board(write_board(tmp_path, data))
    assert board.target == "stm32f746zgtx" and board.qemu is None


def test_optional_dsp_core_accepts_either_variant(tmp_path: Path) -> None:
    for variant in ("dsp", "plain"):
        data = variant_of(
            core="cortex-m33", variant=variant, cpu__mcpu="cortex-m33", cpu__mfpu="fpv5-sp-d16"
        )
        assert load_board(write_board(tmp_path, data)).variant == variant


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("kind = [unclosed\n")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_board(path)
    assert "broken.toml" in err.value.message


# One minimal board of each kind: VALID with the kind's own table in place of [qemu].
ACCESS_TABLES = {
    "qemu": {"machine": "mps2-an386"},
    "pyocd": {"target": "stm32f746zgtx"},
    "renode": {"platform": "platforms/cpus/stm32f746.repl", "uart": "sysbus.usart3"},
}


def board_of_kind(kind: str, **table) -> dict:
    data = variant_of(kind=kind, qemu=None)
    data[kind] = {**ACCESS_TABLES[kind], **table}
    return data


def refusal(tmp_path: Path, data: dict) -> ConfigError:
    path = write_board(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_board(path)
    assert str(path) in err.value.message and "\n" not in err.value.message
    assert err.value.hint
    return err.value


@pytest.mark.parametrize("path", sorted(boards_dir().glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_board_file_loads_with_its_kinds_access(path: Path) -> None:
    board = load_board(path)
    assert board.id == path.stem and board.source == path
    assert type(board.access) is ACCESS_TYPES[board.kind]
    assert board.emulated == (board.kind in EMULATED_KINDS)


def test_each_kind_has_its_access_type() -> None:
    boards = load_all_boards()
    assert boards["qemu-m7"].access == QemuAccess(machine="mps2-an500", icount_shift=7)
    assert boards["nucleo-f746"].access == PyocdAccess(target="stm32f746zgtx")
    renode = boards["renode-f746"]
    assert renode.access == RenodeAccess(
        platform="platforms/cpus/stm32f746.repl", uart="sysbus.usart3", cpu="sysbus.cpu"
    )
    # The flat names still read the access, and only the board's own kind has one.
    assert renode.renode is renode.access and renode.qemu is None and renode.target is None
    assert boards["nucleo-f746"].qemu is None and boards["nucleo-f746"].renode is None


def test_kind_registry_says_which_kinds_are_emulated_and_who_runs_them() -> None:
    assert list(ACCESS_TYPES) == ["qemu", "pyocd", "renode"]
    assert EMULATED_KINDS == {"qemu", "renode"}
    assert [load_board(b).emulated for b in ("qemu-m3", "nucleo-f746", "renode-f746")] == [
        True,
        False,
        True,
    ]
    assert RUNNERS == {
        "qemu": ("hil.runners.qemu", "QemuRunner"),
        "pyocd": ("hil.runners.pyocd", "PyocdRunner"),
        "renode": ("hil.runners.renode", "RenodeRunner"),
    }
    for module, _ in RUNNERS.values():
        assert importlib.util.find_spec(module) is not None, module


@pytest.mark.parametrize("kind", ["qemu", "pyocd", "renode"])
def test_each_kind_loads_from_its_own_table(tmp_path: Path, kind: str) -> None:
    board = load_board(write_board(tmp_path, board_of_kind(kind)))
    assert board.kind == kind and isinstance(board.access, ACCESS_TYPES[kind])


def test_access_defaults_come_from_the_access_type(tmp_path: Path) -> None:
    assert load_board(write_board(tmp_path, board_of_kind("qemu"))).qemu.icount_shift == 7
    assert load_board(write_board(tmp_path, board_of_kind("renode"))).renode.cpu == "sysbus.cpu"


@pytest.mark.parametrize(
    ("kind", "known"),
    [
        ("qemu", "icount_shift, machine, timer_hz"),
        ("pyocd", "target"),
        ("renode", "cpu, platform, uart"),
    ],
)
def test_unknown_access_key_is_refused_naming_the_kinds_keys(
    tmp_path: Path, kind: str, known: str
) -> None:
    err = refusal(tmp_path, board_of_kind(kind, machin="x"))
    assert f"{kind}.machin is not a {kind} setting (known: {known})" in err.message


@pytest.mark.parametrize(
    ("kind", "changes", "expected"),
    [
        ("qemu", {"machine": 386}, "qemu.machine must be a string, not 386"),
        ("qemu", {"icount_shift": "7"}, "qemu.icount_shift must be an integer, not '7'"),
        ("qemu", {"icount_shift": True}, "qemu.icount_shift must be an integer, not True"),
        ("pyocd", {"target": 1}, "pyocd.target must be a string, not 1"),
        ("renode", {"uart": {"name": "usart3"}}, "renode.uart must be a string"),
        ("renode", {"cpu": False}, "renode.cpu must be a string, not False"),
    ],
)
def test_wrong_types_in_an_access_table_are_refused(
    tmp_path: Path, kind: str, changes: dict, expected: str
) -> None:
    assert expected in refusal(tmp_path, board_of_kind(kind, **changes)).message


def test_access_table_that_is_not_a_table(tmp_path: Path) -> None:
    data = variant_of(qemu="mps2-an386")
    assert "qemu must be a table, not 'mps2-an386'" in refusal(tmp_path, data).message


def test_another_kinds_table_is_refused(tmp_path: Path) -> None:
    data = board_of_kind("pyocd")
    data["renode"] = dict(ACCESS_TABLES["renode"])
    err = refusal(tmp_path, data)
    assert "renode is the table of renode boards, and this board is of kind pyocd" in err.message
    assert "remove the [renode] table" in err.hint


@pytest.mark.parametrize("key", ["pack", "frequency", "serial"])
def test_every_lab_key_in_the_pyocd_table_points_to_the_lab_file(tmp_path: Path, key) -> None:
    err = refusal(tmp_path, board_of_kind("pyocd", **{key: 1}))
    assert f"pyocd.{key} is lab wiring, not a board setting" in err.message
    assert "lab file" in err.hint


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"cpu__fpu": "fpv4-sp-d16"},
            "cpu.fpu is not a cpu setting (known: float_abi, mcpu, mfpu)",
        ),
        ({"memory__rom": {"origin": 0, "size": 1}}, "memory.rom is not a memory setting"),
        ({"memory__ram": {"origin": 0x20000000, "len": 1}}, "memory.ram.len is not a ram setting"),
        ({"memory__ram": {"origin": 0x20000000}}, "memory.ram.size is missing"),
        ({"cpu__mcpu": 4}, "cpu.mcpu must be a string, not 4"),
    ],
)
def test_nested_tables_know_their_keys_and_types(
    tmp_path: Path, changes: dict, expected: str
) -> None:
    assert expected in refusal(tmp_path, variant_of(**changes)).message


def test_replacing_the_access_changes_how_the_board_is_reached() -> None:
    board = load_board("qemu-m3")
    moved = dataclasses.replace(
        board, access=dataclasses.replace(board.access, machine="mps2-an999")
    )
    assert moved.access == QemuAccess(machine="mps2-an999", icount_shift=7)
    assert moved.qemu is moved.access and moved.target is None
    pyocd = dataclasses.replace(board, kind="pyocd", access=PyocdAccess(target="stm32f746zgtx"))
    assert pyocd.target == "stm32f746zgtx" and pyocd.qemu is None and not pyocd.emulated


def test_kind_and_access_must_agree() -> None:
    with pytest.raises(ValueError, match="kind 'renode'"):
        dataclasses.replace(load_board("qemu-m3"), kind="renode")
