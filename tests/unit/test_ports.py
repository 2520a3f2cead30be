"""Port descriptions (firmware/port/<dir>/port.toml): the shipped ones are valid, bad
ones are refused in one line naming the file, and a core no port serves is refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hil.config.boards import known_families, load_board
from hil.datadirs import firmware_root
from hil.errors import ConfigError
from hil.firmware.ports import load_port, port_names, ports_for_board

ARCH = '[port]\nkind = "arch"\ndescription = "a"\ncores = ["cortex-m3"]\n'
BOARD = '[port]\nkind = "board"\narch = "arch"\ndescription = "b"\nlinker_script = "b.ld"\n'
HOST = '[port]\nkind = "host"\ndescription = "h"\n'
DRIVER = '[port]\nkind = "driver"\ndescription = "d"\n'


def make_port(root: Path, name: str, toml: str | None, files: tuple[str, ...] = ("x.c",)) -> Path:
    directory = root / "port" / name
    directory.mkdir(parents=True)
    for f in files:
        (directory / f).write_text("/* */\n")
    if toml is not None:
        (directory / "port.toml").write_text(toml)
    return directory


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A firmware tree with one valid port of each kind."""
    make_port(tmp_path, "arch", ARCH, ("a1.c", "a2.c", "a.h"))
    make_port(tmp_path, "fam", BOARD.replace("b.ld", "fam.ld"), ("hal.c", "fam.ld"))
    make_port(tmp_path, "drv", DRIVER, ("d1.c", "d.h"))
    make_port(tmp_path, "host", HOST, ("hal_host.c",))
    return tmp_path


def refused(root: Path, name: str) -> str:
    with pytest.raises(ConfigError) as err:
        load_port(name, root)
    message = err.value.message
    assert "\n" not in message, message
    assert "README.md" in (err.value.hint or "")
    return message


# --- the shipped ports ---------------------------------------------------------------------


def test_every_port_dir_has_a_valid_description() -> None:
    names = port_names()
    assert {"armv7m", "armv8m", "cmsdk", "mps2", "mps3", "stm32f7", "host"} <= set(names)
    for name in names:
        port = load_port(name)
        assert port.name == name and port.description
        assert port.source_files(), f"{name} compiles nothing"


def test_shipped_ports_have_the_expected_shape() -> None:
    arch = load_port("armv7m")
    assert arch.kind == "arch" and arch.cores == ("cortex-m3", "cortex-m4", "cortex-m7")
    assert [p.name for p in arch.source_files()] == [
        "armv7m_fault.c",
        "armv7m_reset.c",
        "armv7m_stack_guard.c",
    ]
    v8 = load_port("armv8m")
    assert v8.kind == "arch" and v8.cores == ("cortex-m33", "cortex-m55")
    assert [p.name for p in v8.source_files()] == [
        "armv8m_fault.c",
        "armv8m_reset.c",
        "armv8m_stack_guard.c",
    ]
    for family, script, on, drivers in (
        ("mps2", "mps2.ld", "armv7m", ("cmsdk",)),
        ("stm32f7", "stm32f746.ld", "armv7m", ()),
        ("mps3", "mps3.ld", "armv8m", ("cmsdk",)),
    ):
        port = load_port(family)
        assert (port.kind, port.arch, port.drivers) == ("board", on, drivers)
        assert port.linker_script == firmware_root() / "port" / family / script
    cmsdk = load_port("cmsdk")
    assert cmsdk.kind == "driver"
    assert [p.name for p in cmsdk.source_files()] == ["cmsdk_uart.c", "cmsdk_watchdog.c"]
    host = load_port("host")
    assert host.kind == "host"
    assert [p.name for p in host.source_files()] == ["hal_host.c"]


def test_families_are_the_board_ports() -> None:
    assert known_families() == ("mps2", "mps3", "stm32f7")


def test_every_board_builds_on_a_port_that_serves_its_core() -> None:
    for board_id in ("qemu-m3", "qemu-m4", "qemu-m7", "nucleo-f746", "renode-f746", "qemu-m55"):
        board = load_board(board_id)
        ports = ports_for_board(board)
        arch = "armv8m" if board.core == "cortex-m55" else "armv7m"
        assert ports.board.name == board.family and ports.arch.name == arch
        names = [p.name for p in ports.source_files()]
        # The board port first, then its drivers, then the architecture port: the link
        # order the images have.
        assert names[-3:] == [f"{arch}_fault.c", f"{arch}_reset.c", f"{arch}_stack_guard.c"]
        if board.family == "stm32f7":
            assert ports.drivers == ()
        else:
            assert [d.name for d in ports.drivers] == ["cmsdk"]
            assert names[-5:-3] == ["cmsdk_uart.c", "cmsdk_watchdog.c"]


# --- the loader ----------------------------------------------------------------------------


def test_a_valid_tree_loads(tree: Path) -> None:
    fam = load_port("fam", tree)
    assert fam.linker_script == tree / "port" / "fam" / "fam.ld"
    assert [p.name for p in fam.source_files()] == ["hal.c"]
    assert load_port("arch", tree).sources == ("*.c",)  # the default


def test_sources_globs_choose_files_in_order_once(tree: Path) -> None:
    make_port(tree, "pick", HOST + 'sources = ["b*.c", "*.c"]\n', ("a.c", "b.c", "c.h"))
    assert [p.name for p in load_port("pick", tree).source_files()] == ["b.c", "a.c"]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[port\nkind = 1", "not valid TOML"),
        ('kind = "board"\n', "unknown table or key 'kind'; everything goes in the [port] table"),
        ("[other]\n", "unknown table or key 'other'"),
        ("[port]\n", "[port] kind is missing"),
        (
            '[port]\nkind = "bord"\ndescription = "x"\n',
            "kind is 'bord'; use one of board, arch, driver, host",
        ),
        ('[port]\nkind = "host"\n', "[port] description is missing"),
        ('[port]\nkind = "host"\ndescription = ""\n', "description must be a non-empty string"),
        (HOST + 'arch = "armv7m"\n', "[port] arch is not a key of a host port"),
        (ARCH + 'linker_script = "x.ld"\n', "linker_script is not a key of an arch port"),
        (BOARD + 'cores = ["cortex-m3"]\n', "cores is not a key of a board port"),
        (HOST + 'drivers = ["drv"]\n', "[port] drivers is not a key of a host port"),
        (ARCH + 'drivers = ["drv"]\n', "drivers is not a key of an arch port"),
        (DRIVER + 'drivers = ["drv"]\n', "drivers is not a key of a driver port"),
        (DRIVER + 'arch = "arch"\n', "arch is not a key of a driver port"),
        (BOARD + 'drivers = "drv"\n', "drivers must be a non-empty list of strings"),
        (BOARD + "drivers = []\n", "drivers must be a non-empty list of strings"),
        (BOARD + 'drivers = ["drv", "drv"]\n', "drivers names 'drv' twice; name each driver"),
        (BOARD.replace('arch = "arch"\n', ""), "[port] arch is missing; a board port needs it"),
        (BOARD.replace('linker_script = "b.ld"\n', ""), "linker_script is missing"),
        (BOARD.replace("b.ld", "nope.ld"), "linker_script 'nope.ld' is not a file"),
        (ARCH.replace('cores = ["cortex-m3"]\n', ""), "[port] cores is missing"),
        (ARCH.replace('["cortex-m3"]', '"cortex-m3"'), "cores must be a non-empty list"),
        (ARCH.replace('["cortex-m3"]', "[]"), "cores must be a non-empty list"),
        (ARCH.replace("cortex-m3", "cortex-m9"), "cores names 'cortex-m9'; known cores:"),
        (HOST + 'sources = ["../other/*.c"]\n', "leaves the port directory"),
        (HOST + 'sources = "*.c"\n', "sources must be a non-empty list of strings"),
    ],
)
def test_bad_descriptions_are_refused_in_one_line(tmp_path: Path, toml: str, expected: str) -> None:
    make_port(tmp_path, "bad", toml, ("x.c", "b.ld"))
    message = refused(tmp_path, "bad")
    path = str(tmp_path / "port" / "bad" / "port.toml")
    assert message.startswith((path + ":", f"port description {path} "))
    assert expected in message


def test_a_port_without_a_description_is_refused(tmp_path: Path) -> None:
    make_port(tmp_path, "bare", None)
    assert "port.toml does not exist" in refused(tmp_path, "bare")


def test_a_sources_pattern_matching_nothing_is_refused(tmp_path: Path) -> None:
    make_port(tmp_path, "typo", HOST + 'sources = ["hal_hots.c"]\n', ("hal_host.c",))
    with pytest.raises(ConfigError, match=r"sources pattern 'hal_hots.c' matches no file") as err:
        load_port("typo", tmp_path).source_files()
    assert "\n" not in err.value.message


# --- choosing the ports for a board ------------------------------------------------------


def board_of(family: str, core: str = "cortex-m3"):
    return dataclasses.replace(load_board("qemu-m3"), family=family, core=core)


def test_a_board_gets_its_family_then_its_arch(tree: Path) -> None:
    ports = ports_for_board(board_of("fam"), tree)
    assert [p.name for p in ports.source_files()] == ["hal.c", "a1.c", "a2.c"]
    assert ports.linker_script.name == "fam.ld"


def test_a_board_gets_its_drivers_between_its_family_and_its_arch(tree: Path) -> None:
    make_port(tree, "drv2", DRIVER + 'sources = ["z.c", "y.c"]\n', ("y.c", "z.c"))
    toml = BOARD.replace("b.ld", "w.ld") + 'drivers = ["drv2", "drv"]\n'
    make_port(tree, "withdrv", toml, ("hal.c", "w.ld"))
    ports = ports_for_board(board_of("withdrv"), tree)
    assert [d.name for d in ports.drivers] == ["drv2", "drv"]  # in the order named
    assert [p.name for p in ports.source_files()] == ["hal.c", "z.c", "y.c", "d1.c", "a1.c", "a2.c"]


def test_a_board_port_must_name_driver_ports(tree: Path) -> None:
    def refused_for(family: str) -> str:
        with pytest.raises(ConfigError) as err:
            ports_for_board(board_of(family), tree)
        assert "\n" not in err.value.message and "README.md" in (err.value.hint or "")
        return err.value.message

    make_port(tree, "lost", BOARD + 'drivers = ["drv", "uart"]\n', ("b.ld",))
    assert refused_for("lost") == (
        f"{tree / 'port' / 'lost' / 'port.toml'}: drivers names 'uart', which is no "
        f"directory under {tree / 'port'}; name a driver port there"
    )
    make_port(tree, "up", BOARD + 'drivers = [".."]\n', ("b.ld",))
    assert "drivers names '..', which is no directory" in refused_for("up")
    make_port(tree, "odd", BOARD + 'drivers = ["arch"]\n', ("b.ld",))
    assert refused_for("odd") == (
        f"{tree / 'port' / 'odd' / 'port.toml'}: drivers names 'arch', an arch port; "
        'name a driver port (kind = "driver")'
    )
    make_port(tree, "broken", "[port\n")
    make_port(tree, "usesbroken", BOARD + 'drivers = ["broken"]\n', ("b.ld",))
    assert "broken/port.toml is not valid TOML" in refused_for("usesbroken")


def test_an_unserved_core_is_refused(tree: Path) -> None:
    with pytest.raises(ConfigError) as err:
        ports_for_board(board_of("fam", "cortex-m33"), tree)
    assert err.value.message == (
        "board qemu-m3 has core cortex-m33, which port arch does not serve (it serves "
        "cortex-m3); pick a served core or add an architecture port for cortex-m33"
    )


def test_the_shipped_armv7m_port_refuses_an_armv8m_core() -> None:
    with pytest.raises(ConfigError, match=r"core cortex-m33, which port armv7m does not serve"):
        ports_for_board(board_of("mps2", "cortex-m33"))


def test_a_family_must_be_a_board_port(tree: Path) -> None:
    with pytest.raises(ConfigError, match=r"family 'arch' is an arch port, not a board port"):
        ports_for_board(board_of("arch"), tree)
    with pytest.raises(ConfigError, match=r"family 'host' is a host port, not a board port"):
        ports_for_board(board_of("host"), tree)
    with pytest.raises(ConfigError, match=r"family 'drv' is a driver port, not a board port"):
        ports_for_board(board_of("drv"), tree)


def test_a_board_port_must_build_on_an_arch_port(tree: Path) -> None:
    make_port(tree, "odd", BOARD.replace('arch = "arch"', 'arch = "host"'), ("b.ld",))
    with pytest.raises(ConfigError, match=r"arch is 'host', a host port; name an architecture"):
        ports_for_board(board_of("odd"), tree)
    make_port(tree, "lost", BOARD.replace('arch = "arch"', 'arch = "armv8m"'), ("b.ld",))
    with pytest.raises(ConfigError, match=r"lost/port.toml: arch is 'armv8m', which is no dir"):
        ports_for_board(board_of("lost"), tree)


# --- families (hil.config reads only the kind) -------------------------------------------


def test_known_families_reads_the_kind(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_port(tree, "nodesc", None)
    monkeypatch.setenv("HIL_FIRMWARE_DIR", str(tree))
    assert known_families() == ("fam",)


def test_known_families_names_a_broken_description(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_port(tree, "broken", "[port\n")
    monkeypatch.setenv("HIL_FIRMWARE_DIR", str(tree))
    with pytest.raises(ConfigError, match=r"broken/port.toml is not valid TOML") as err:
        known_families()
    assert "\n" not in err.value.message
