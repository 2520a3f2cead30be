"""`hil run --inject-fault LAYER:KIND`: parsing, the one-line errors, and the build defines."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.cli import main
from hil.cli.options import parse_inject_fault
from hil.config.boards import load_board
from hil.device.connect import image_dir
from hil.device.target import FAULT_KINDS, Target
from hil.errors import ConfigError
from hil.model.io import load_model

CIFAR10 = [layer.name for layer in load_model("cifar10").layers]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("conv2:off-by-one", (3, "off-by-one")),
        ("3:bit-flip", (3, "bit-flip")),
        ("softmax:no-saturation", (10, "no-saturation")),
        ("0:off-by-one", (0, "off-by-one")),
    ],
)
def test_layer_by_name_or_index(text, expected):
    assert parse_inject_fault(text, CIFAR10) == expected


@pytest.mark.parametrize(
    "text, words",
    [
        ("conv2", "expected LAYER:KIND"),
        ("conv2:", "expected LAYER:KIND"),
        (":bit-flip", "expected LAYER:KIND"),
        ("conv2:off-by-two", "unknown kind 'off-by-two'"),
        ("conv9:bit-flip", "no layer 'conv9'"),
        ("11:bit-flip", "no layer '11'"),
        ("-1:bit-flip", "no layer '-1'"),
    ],
)
def test_bad_values_are_refused(text, words):
    with pytest.raises(ConfigError, match=words):
        parse_inject_fault(text, CIFAR10)


def _run(args: list[str], build_root: Path, capsys) -> tuple[int, str]:
    code = main(["run", "-m", "cifar10", "--build-dir", str(build_root), *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "value, words",
    [
        ("conv2-off-by-one", "expected LAYER:KIND"),
        ("conv2:flip", "unknown kind 'flip'"),
        ("fc9:bit-flip", "the model has no layer 'fc9'"),
    ],
)
def test_command_line_errors_are_one_line_before_any_build(tmp_path, capsys, value, words):
    code, err = _run(["--inject-fault", value], tmp_path, capsys)
    assert code == ConfigError.exit_code
    assert words in err and "hint:" in err and "Traceback" not in err
    assert not (tmp_path / "qemu-m3").exists() and not (tmp_path / "qemu-m7").exists()


def test_help_lists_the_kinds(capsys):
    assert main(["run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--inject-fault" in text
    for kind in FAULT_KINDS:
        assert kind in text


def _target(tmp_path: Path, fault) -> Target:
    return Target(
        board=load_board("qemu-m7"),
        network=load_model("cifar10"),
        model="cifar10",
        build_root=tmp_path,
        inject_fault=fault,
    )


def test_fault_becomes_build_defines_and_its_own_image_directory(tmp_path):
    normal, faulted = _target(tmp_path, None), _target(tmp_path, (3, "bit-flip"))
    assert normal.build_defines() == {}
    assert faulted.build_defines() == {"HIL_INJECT_FAULT_LAYER": "3", "HIL_INJECT_FAULT_KIND": "2"}
    dirs = {
        image_dir(tmp_path, t.board, t.network, t.build_defines() or None)
        for t in (normal, faulted, _target(tmp_path, (3, "off-by-one")))
    }
    assert len(dirs) == 3


def test_soak_checks_the_option_too(tmp_path, capsys):
    code = main(["soak", "--build-dir", str(tmp_path), "--inject-fault", "conv2:wrong"])
    assert code == ConfigError.exit_code
    assert "unknown kind 'wrong'" in capsys.readouterr().err
