"""The command line's own behaviour: --verbose names where each setting came
from, and a usage error is a short message with exit code 2, not a traceback."""

from __future__ import annotations

import pytest

from hil.cli import main


@pytest.mark.needs_arm_gcc
def test_verbose_says_where_each_setting_came_from(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("HIL_MODEL", "lenet5")
    monkeypatch.setenv("HIL_BUILD_DIR", str(tmp_path))
    monkeypatch.delenv("HIL_CMSIS_NN", raising=False)
    code = main(["-v", "build", "--board", "qemu-m3"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "setting board = qemu-m3 from command line (--board)" in err
    assert "setting model = lenet5 from environment ($HIL_MODEL)" in err
    assert f"setting build_dir = {tmp_path} from environment ($HIL_BUILD_DIR)" in err
    assert "setting cmsis_nn = None from nowhere" in err
    assert any(tmp_path.rglob("firmware.elf"))


def test_defaults_and_the_command_line_are_told_apart(capsys):
    assert main(["-v", "bench", "reference", "--model", "lenet5", "--repeat", "1"]) == 0
    err = capsys.readouterr().err
    assert "setting model = lenet5 from command line (--model)" in err
    assert "setting variant = dsp from default" in err


def test_without_verbose_nothing_is_said_about_settings(capsys):
    assert main(["bench", "reference", "--model", "lenet5", "--repeat", "1"]) == 0
    assert "setting " not in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(capsys):
    assert main(["run", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert "No such option: --no-such-option" in err and "Traceback" not in err
