"""The pytest plugin, exercised the way a user's project uses it (pytester). Its device
fixtures on a real QEMU board: tests/integration/test_pytest_plugin_qemu.py."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from helpers.plugin_user_tests import S8_USER_TESTS, USER_TESTS
from helpers.s8_model_file import write_s8_model

pytest_plugins = ["pytester"]


def test_registered_through_the_pytest11_entry_point():
    eps = {e.name: e.value for e in entry_points(group="pytest11")}
    assert eps.get("hil") == "hil.pytest_plugin", "reinstall hil: pip install -e '.[test]'"


def test_options_are_listed_in_help(pytester):
    out = pytester.runpytest("--help").stdout.str()
    for opt in ("--hil-board", "--hil-model", "--hil-port", "--hil-build-dir", "--hil-rounding"):
        assert opt in out


def test_device_tests_skip_cleanly_without_a_board(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest("-rs", "--hil-model", "lenet5")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(["*no hil board given: run pytest with --hil-board BOARD*"])
    assert "hil: board" not in result.stdout.str()


def test_an_unknown_board_fails_with_the_hint(pytester):
    pytester.makepyfile(test_user="def test_board(hil_board):\n    pass\n")
    result = pytester.runpytest("--hil-board", "no-such-board")
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert "hil: " in out and "no-such-board" in out and "hint:" in out
    assert "Traceback" not in out and "During handling" not in out


# ------------------------------------------------------------------ s8 models


@pytest.fixture
def s8_model(tmp_path) -> Path:
    return write_s8_model(tmp_path / "models")


def test_an_s8_model_gives_its_network_and_reference_without_a_board(pytester, s8_model):
    pytester.makepyfile(test_user=S8_USER_TESTS)
    result = pytester.runpytest("-rs", "--hil-model", str(s8_model))
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(["*no hil board given: run pytest with --hil-board BOARD*"])


ROUNDING_TEST = """
import numpy as np
from hil.reference.s8 import run_network


def test_reference_rounds_as_asked(hil_network, hil_reference):
    x = np.random.default_rng(0).integers(-128, 128, hil_network.input_shape, dtype=np.int8)
    asked, other = {ROUNDING!r}, {OTHER!r}
    got = hil_reference(x)
    assert all(np.array_equal(g, w) for g, w in zip(got, run_network(hil_network, x, asked)))
    # the two roundings differ on this input, so the test tells them apart
    assert not all(np.array_equal(g, w) for g, w in zip(got, run_network(hil_network, x, other)))
"""


@pytest.mark.parametrize(
    "args, rounding, other",
    [((), "double", "single"), (("--hil-rounding", "single"), "single", "double")],
)
def test_the_s8_reference_uses_the_rounding_asked_for(pytester, s8_model, args, rounding, other):
    pytester.makepyfile(test_user=ROUNDING_TEST.format(ROUNDING=rounding, OTHER=other))
    result = pytester.runpytest("--hil-model", str(s8_model), *args)
    result.assert_outcomes(passed=1)


def _usage_error(result) -> str:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "Traceback" not in err and "Traceback" not in result.stdout.str()
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_a_rounding_that_is_none_is_a_usage_error(pytester, s8_model):
    pytester.makepyfile(test_user="def test_x(hil_network):\n    pass\n")
    line = _usage_error(pytester.runpytest("--hil-model", str(s8_model), "--hil-rounding", "dsp"))
    assert "--hil-rounding 'dsp' is not a rounding" in line and "double or single" in line


def test_a_rounding_on_a_q7_model_is_a_usage_error(pytester):
    pytester.makepyfile(test_user="def test_x(hil_network):\n    pass\n")
    line = _usage_error(pytester.runpytest("--hil-model", "lenet5", "--hil-rounding", "single"))
    assert "--hil-rounding is for s8 (int8) models; lenet5 is q7" in line
    assert "leave out --hil-rounding" in line


def test_a_rounding_with_an_unloadable_model_names_the_model(pytester, tmp_path):
    pytester.makepyfile(test_user="def test_x(hil_network):\n    pass\n")
    missing = tmp_path / "missing.toml"
    line = _usage_error(pytester.runpytest("--hil-model", str(missing), "--hil-rounding", "single"))
    assert line.startswith("ERROR: hil: ") and "missing.toml" in line
