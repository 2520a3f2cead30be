"""The pytest plugin, exercised the way a user's project uses it (pytester). Its device
fixtures on a real QEMU board: tests/integration/test_pytest_plugin_qemu.py."""

from __future__ import annotations

from importlib.metadata import entry_points

from helpers.plugin_user_tests import USER_TESTS

pytest_plugins = ["pytester"]


def test_registered_through_the_pytest11_entry_point():
    eps = {e.name: e.value for e in entry_points(group="pytest11")}
    assert eps.get("hil") == "hil.pytest_plugin", "reinstall hil: pip install -e '.[test]'"


def test_options_are_listed_in_help(pytester):
    out = pytester.runpytest("--help").stdout.str()
    for opt in ("--hil-board", "--hil-model", "--hil-port", "--hil-build-dir"):
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
