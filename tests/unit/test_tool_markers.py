"""The needs_<tool> markers and require_tool (tests/conftest.py): a missing tool
skips on a developer's machine and fails under CI=true; a present one runs."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"
TIERS = ("unit", "firmware", "integration")
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
        "needs_make",
        "needs_cmake",
    }


# -- the tiers: unit/ stays pure, integration/ is slow ----------------------------------

TIER_TESTS = {
    "unit/test_in_unit.py": """
import pytest

@pytest.fixture
def compiler(require_tool):
    require_tool("gcc")

@pytest.mark.needs_qemu
def test_marked():
    pass

def test_through_a_fixture(compiler):
    pass

def test_pure():
    pass
""",
    "firmware/test_in_firmware.py": """
import pytest

@pytest.mark.needs_arm_gcc
def test_cross_build():
    pass

def test_pure_here_too():
    pass
""",
    "integration/test_in_integration.py": "def test_end_to_end():\n    pass\n",
}


@pytest.fixture
def tiers(pytester, request, project):
    """The repository's conftest over a unit/, firmware/ and integration/ folder."""
    markers = "\n".join(f"    {line}" for line in request.config.getini("markers"))
    pytester.makeini(f"[pytest]\nmarkers =\n{markers}\n")
    (pytester.path / "test_user.py").unlink()  # the project's own tests sit in no tier
    for name, text in TIER_TESTS.items():
        path = pytester.path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    return pytester


def test_a_unit_test_that_needs_a_tool_fails_even_without_the_tool(tiers):
    result = tiers.runpytest_subprocess("-rEs", "-W", "error::pytest.PytestUnknownMarkWarning")
    result.assert_outcomes(passed=3, errors=2, skipped=1)  # failed in setup, before the fixture
    out = result.stdout.str()
    assert out.count("tests/unit/ is for pure Python") == 2
    assert "this test needs needs_qemu: move it to tests/firmware/" in out
    assert "this test needs require_tool: move it" in out
    assert "arm-none-eabi-gcc with newlib is not installed" in out  # firmware/ may need it


def test_each_test_carries_its_tier_and_integration_is_slow(tiers):
    items, _ = tiers.inline_genitems()
    marks = {item.name: {m.name for m in item.iter_markers()} & {*TIERS, "slow"} for item in items}
    assert marks == {
        "test_marked": {"unit"},
        "test_through_a_fixture": {"unit"},
        "test_pure": {"unit"},
        "test_cross_build": {"firmware"},
        "test_pure_here_too": {"firmware"},
        "test_end_to_end": {"integration", "slow"},
    }
    _, quick = tiers.inline_genitems("-m", "not slow")
    left_out = [item.name for call in quick.getcalls("pytest_deselected") for item in call.items]
    assert left_out == ["test_end_to_end"]
