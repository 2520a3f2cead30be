"""One setup path: option groups declared once, resolved into one Target, and
hil.device.connect the only way any command or the pytest plugin reaches a device."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import typer
import typer.testing

import hil
import hil.cli
from hil.cli.option_groups import DEVICE, LINK, TARGET, Options, with_options
from hil.device.target import Target

PACKAGE = Path(hil.__file__).parent
# The steps connect() owns; a command that calls them itself repeats the setup sequence.
SETUP_STEPS = {"open_device", "open_devices", "prepare_image", "check_image", "symbolized"}


def _calls_and_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
    return names


# Everything above hil.device that reaches a device: the commands, the benchmarks, the plugin.
CALLERS = sorted(
    str(p.relative_to(PACKAGE))
    for p in [*PACKAGE.glob("cli/*.py"), *PACKAGE.glob("bench/*.py"), PACKAGE / "pytest_plugin.py"]
)


@pytest.mark.parametrize("module", CALLERS)
def test_no_command_repeats_the_setup_sequence(module):
    repeated = _calls_and_imports(PACKAGE / module) & SETUP_STEPS
    assert not repeated, f"{module} calls {sorted(repeated)}: use hil.device.connect.connect"


def _params(command: str) -> dict:
    group = typer.main.get_command(hil.cli.app)
    cmd = group.commands[command]
    return {p.name: p for p in cmd.params}


@pytest.mark.parametrize("command", ["run", "flash", "soak", "build"])
def test_target_options_are_the_same_on_every_command(command):
    params = _params(command)
    assert params["board"].opts == ["--board", "-b"] and params["board"].envvar == "HIL_BOARD"
    assert params["model"].opts == ["--model", "-m"] and params["model"].envvar == "HIL_MODEL"
    assert params["board"].default == "qemu-m7" and params["model"].default == "cifar10"
    assert params["build_dir"].envvar == "HIL_BUILD_DIR"


@pytest.mark.parametrize("command", ["run", "flash", "soak"])
def test_device_options_are_the_same_on_every_command(command):
    params = _params(command)
    for name, env in (("port", "HIL_PORT"), ("timeout", "HIL_TIMEOUT"), ("probe", "HIL_PROBE")):
        assert params[name].envvar == env
    assert "lab" in params and "pack" in params


def test_a_command_may_change_a_group_default():
    assert _params("flash")["timeout"].default == 5.0
    assert _params("run")["timeout"].default == 10.0
    assert _params("soak")["link_faults"].default.startswith("drop=")
    assert _params("run")["link_faults"].default is None


def test_the_command_gets_its_own_options_and_the_groups_values():
    app = typer.Typer()
    seen = {}

    @app.command()
    @with_options(TARGET, LINK)
    def probe(opts: Options, count: int = typer.Option(3, "--count")) -> None:
        seen.update(groups=opts.groups, board=opts.board, baud=opts.link_baud, count=count)

    result = typer.testing.CliRunner().invoke(app, ["-b", "qemu-m3", "--link-baud", "9600"])
    assert result.exit_code == 0, result.output
    assert seen == {"groups": ("target", "link"), "board": "qemu-m3", "baud": 9600, "count": 3}


def test_an_unknown_default_is_a_programming_error():
    with pytest.raises(AssertionError, match="no such option"):
        with_options(TARGET, bogus=1)(lambda opts: None)


def test_resolution_yields_a_target_with_where_each_setting_came_from(tmp_path, monkeypatch):
    app = typer.Typer()
    got = {}

    @app.command()
    @with_options(TARGET, DEVICE, LINK)
    def probe(opts: Options) -> None:
        got["target"] = opts.resolve()

    monkeypatch.setenv("HIL_MODEL", "lenet5")
    args = ["-b", "qemu-m3", "--build-dir", str(tmp_path), "--link-faults", "drop=0.5,seed=1"]
    result = typer.testing.CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    target: Target = got["target"]
    assert target.board.id == "qemu-m3" and target.network.name == "lenet5"
    assert target.emulated and target.build_root == tmp_path
    assert target.lab is not None and target.lab.path is None  # no lab file here
    assert target.link_faults is not None and target.link_faults.spec.drop == 0.5
    assert target.sources["board"] == "command line (--board)"
    assert target.sources["model"] == "environment ($HIL_MODEL)"
    assert target.sources["timeout"] == "default"
    assert target.runner_options() == {}  # probe settings are for pyOCD boards only


def test_a_pyocd_target_names_the_lab_file_for_what_it_filled_in(tmp_path):
    from hil.config.boards import load_board
    from hil.config.lab import load_lab
    from hil.model.examples import build_example

    lab = tmp_path / "lab.toml"
    lab.write_text('[boards.nucleo-f746]\nprobe = "0670FF"\nport = "/dev/ttyACM7"\n')
    board = load_board("nucleo-f746")
    target = Target(
        board=board,
        network=build_example("lenet5"),
        model="lenet5",
        build_root=tmp_path,
        port="socket://localhost:1",
        lab=load_lab(lab),
    )
    rows = dict(target.provenance())
    assert rows["probe"] == f"lab file {lab}: 0670FF"
    assert "port" not in rows  # given explicitly: the lab file's port does not apply
    options = target.runner_options(progress=print)
    assert options["lab"].path == lab and options["port"] == "socket://localhost:1"
    assert options["progress"] is print and not target.emulated
