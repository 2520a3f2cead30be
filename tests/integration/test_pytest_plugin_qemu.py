"""The pytest plugin's device fixtures on a real board (lenet5, and an s8 model file, on
qemu-m7), run the way a user's project runs them (pytester): every test passes and the
device is shut down; a user's test whose layers differ fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.plugin_user_tests import S8_MISMATCH_TEST, S8_USER_TESTS, USER_TESTS
from helpers.s8_model_file import write_s8_model

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


@pytest.fixture(scope="module")
def s8_model(tmp_path_factory) -> Path:
    return write_s8_model(tmp_path_factory.mktemp("s8-model"))


@pytest.fixture(scope="module")
def s8_build(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("plugin-build-s8")


@pytest.mark.qemu
@pytest.mark.needs_qemu
@pytest.mark.needs_arm_gcc
def test_s8_user_tests_pass_on_qemu_m7(pytester, s8_model, s8_build, qemu_children):
    pytester.makepyfile(test_user=S8_USER_TESTS)
    result = pytester.runpytest(
        "--hil-board", "qemu-m7", "--hil-model", str(s8_model), "--hil-build-dir", str(s8_build)
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines([f"hil: board qemu-m7, model {s8_model}"])
    assert qemu_children() == [], "the session's device is shut down at the end"


@pytest.mark.qemu
@pytest.mark.needs_qemu
@pytest.mark.needs_arm_gcc
def test_an_s8_layer_that_differs_fails_the_users_test(pytester, s8_model, s8_build):
    pytester.makepyfile(test_user=S8_MISMATCH_TEST)
    result = pytester.runpytest(
        "--hil-board", "qemu-m7", "--hil-model", str(s8_model), "--hil-build-dir", str(s8_build)
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: layer 0 differs*"])


SINGLE_ROUNDING_TEST = """
import numpy as np
from hil.reference.s8 import run_network


def test_the_image_rounds_once(hil_device, hil_reference, hil_network):
    assert hil_device.info.rounding == "single"
    x = np.random.default_rng(0).integers(-128, 128, hil_network.input_shape, dtype=np.int8)
    got = [g.output for g in hil_device.session.infer(x, dump="all")]
    assert all(np.array_equal(g, w) for g, w in zip(got, hil_reference(x)))
    double = run_network(hil_network, x, "double")
    assert not all(np.array_equal(g, w) for g, w in zip(got, double)), "roundings differ here"
"""


@pytest.mark.qemu
@pytest.mark.needs_qemu
@pytest.mark.needs_arm_gcc
def test_hil_rounding_single_builds_and_judges_a_single_rounding_image(
    pytester, s8_model, s8_build
):
    pytester.makepyfile(test_user=SINGLE_ROUNDING_TEST)
    result = pytester.runpytest(
        "--hil-board", "qemu-m7", "--hil-model", str(s8_model), "--hil-build-dir",
        str(s8_build), "--hil-rounding", "single",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"hil: board qemu-m7, model {s8_model}, rounding single"])
