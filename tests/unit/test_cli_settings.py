"""The command line's own behaviour: --verbose names where each setting came
from, and a usage error is a short message with exit code 2, not a traceback.
Through a real build: tests/firmware/test_cli_settings_build.py."""

from __future__ import annotations

from hil.cli import main


def test_defaults_and_the_command_line_are_told_apart(capsys):
    assert main(["-v", "bench", "reference", "--model", "lenet5", "--repeat", "1"]) == 0
    err = capsys.readouterr().err
    assert "setting model = lenet5 from command line (--model)" in err
    assert "setting chunk_size = 32 from default" in err


def test_without_verbose_nothing_is_said_about_settings(capsys):
    assert main(["bench", "reference", "--model", "lenet5", "--repeat", "1"]) == 0
    assert "setting " not in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(capsys):
    assert main(["run", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert "No such option: --no-such-option" in err and "Traceback" not in err
