"""Board files: the shipped ones load, and every malformed file is refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.config.boards import Board, boards_dir, load_all_boards, load_board
from hil.errors import ConfigError

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
