"""The pytest plugin, exercised the way a user's project uses it (pytester)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import numpy as np
from hil.model.inputs import generated_inputs


def test_network_needs_no_board(hil_network):
    assert hil_network.name == "lenet5"


def test_board(hil_board):
    assert hil_board.id == "qemu-m7"


def test_every_layer_matches_the_reference(hil_device, hil_reference, hil_network):
    assert hil_device.info.board_id == "qemu-m7" and hil_device.info.model_name == "lenet5"
    for x in generated_inputs(hil_network, 2, 7):
        got = hil_device.session.infer(x, dump="all")
        want = hil_reference(x)
        assert len(got) == len(want) == len(hil_network.layers)
        for g, w in zip(got, want):
            assert g.status == 0 and np.array_equal(g.output, w), g.index


def test_the_session_is_shared(hil_device, hil_reference):
    assert hil_device.session.info is not None
"""


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


@pytest.mark.qemu
@pytest.mark.needs_qemu
@pytest.mark.needs_arm_gcc
def test_user_tests_pass_on_qemu_m7(pytester, tmp_path_factory, qemu_children):
    build = tmp_path_factory.mktemp("plugin-build")
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(
        "--hil-board", "qemu-m7", "--hil-model", "lenet5", "--hil-build-dir", str(build)
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["hil: board qemu-m7, model lenet5"])
    assert list((build / "logs").iterdir()), "the runner's log goes under --hil-build-dir"
    assert qemu_children() == [], "the session's device is shut down at the end"
