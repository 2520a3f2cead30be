"""The needs_<tool> markers and require_tool (tests/conftest.py): a missing tool
skips on a developer's machine and fails under CI=true; a present one runs."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"
USER_TESTS = """
import pytest

@pytest.fixture
def browser(require_tool):
    require_tool("chromium")
    return "chromium"

@pytest.mark.needs_qemu
def test_marked():
    pass

def test_through_a_fixture(browser):
    pass
"""


@pytest.fixture
def project(pytester, tmp_path, monkeypatch):
    """A test project using the repository's conftest, on a PATH with no tools."""
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_user=USER_TESTS)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("CI", raising=False)
    return bin_dir


def test_missing_tools_skip_outside_ci(pytester, project):
    result = pytester.runpytest_subprocess("-rs")
    result.assert_outcomes(skipped=2)
    out = result.stdout.str()
    assert "qemu-system-arm is not installed" in out and "chromium is not installed" in out
    assert "run scripts/bootstrap" in out


def test_missing_tools_fail_under_ci(pytester, project, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest_subprocess("-rE")
    result.assert_outcomes(errors=2)  # failed in setup, before any fixture work
    out = result.stdout.str()
    assert (
        "CI=true and qemu-system-arm is not installed (Debian: qemu-system-arm); run scripts/bootstrap"
        in out
    )
    assert "CI=true and chromium is not installed" in out
    assert "Traceback" not in out


def test_present_tools_run_under_ci(pytester, project, monkeypatch):
    for name in ("qemu-system-arm", "chromium"):
        tool = project / name
        tool.write_text("#!/bin/sh\nexit 0\n")
        tool.chmod(0o755)
    monkeypatch.setenv("CI", "true")
    pytester.runpytest_subprocess().assert_outcomes(passed=2)


def test_each_tool_marker_is_declared(request):
    declared = {line.split(":")[0].strip() for line in request.config.getini("markers")}
    conftest = request.config.pluginmanager.get_plugin(str(CONFTEST))
    assert conftest is not None and conftest.MARKERS
    assert set(conftest.MARKERS) <= declared
    assert set(conftest.MARKERS) == {
        "needs_gcc",
        "needs_arm_gcc",
        "needs_qemu",
        "needs_clang",
        "needs_chromium",
    }
