"""--rounding is one option of the commands that build an s8 image (run, build, flash,
soak, bench device(s)): refused on a q7 model or with an unknown value, in one line,
before any build."""

from __future__ import annotations

import pytest

from hil.cli import main

from helpers.s8_model_file import write_s8_model

COMMANDS = [["run"], ["build"], ["flash"], ["soak"], ["bench", "device"], ["bench", "devices"]]


@pytest.fixture(scope="module")
def s8_model(tmp_path_factory):
    return write_s8_model(tmp_path_factory.mktemp("rounding"))


def _refused(args, tmp_path, capsys) -> str:
    build = tmp_path / "build"
    code = main([*args, "--build-dir", str(build)])
    said = capsys.readouterr()
    assert code != 0, said.out
    assert "Traceback" not in said.out + said.err
    assert not build.exists()  # refused before any build
    lines = [line for line in said.err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, said.err
    return " ".join(said.err.split())


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_rounding_on_a_q7_model_is_refused(command, tmp_path, capsys):
    err = _refused([*command, "--model", "lenet5", "--rounding", "single"], tmp_path, capsys)
    assert "--rounding is for s8 (int8) models; lenet5 is q7" in err


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_unknown_rounding_is_refused(command, s8_model, tmp_path, capsys):
    err = _refused([*command, "--model", str(s8_model), "--rounding", "half"], tmp_path, capsys)
    assert "--rounding 'half' is not a rounding" in err and "double or single" in err
