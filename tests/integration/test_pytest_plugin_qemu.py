"""The pytest plugin's device fixtures on a real board (lenet5 on qemu-m7), run the way a
user's project runs them (pytester): every test passes and the device is shut down."""

from __future__ import annotations

import pytest

from helpers.plugin_user_tests import USER_TESTS

pytest_plugins = ["pytester"]


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
