"""Shared fixtures. ../shared (next to the repo) holds read-only ground truth:
golden vectors and the CIFAR-10 example snapshot. Tests read it in place and
skip when it is absent.

Tests that need an external tool say so with a marker (``needs_gcc``,
``needs_arm_gcc``, ``needs_qemu``, ``needs_clang``, ``needs_chromium``,
``needs_make``, ``needs_cmake``), or,
inside a fixture, with ``require_tool("qemu")``. A missing tool skips the
test on a developer's machine and fails it under CI=true, where a skip would
hide that the tool was never installed.

The suite has three tiers, one folder each, and every test is marked with its
tier's name: ``unit`` (pure Python, fast: no compiler, emulator or browser),
``firmware`` (host and cross builds of the firmware, and host-built firmware
driven in-process) and ``integration`` (QEMU, Chromium, an installed wheel).
Everything in integration is also ``slow``, so ``pytest -m "not slow"`` is the
quick loop. A test under unit/ that needs a tool fails: it belongs in another
tier."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[1]


def _on_path(name: str) -> bool:
    return shutil.which(name) is not None


def _arm_gcc_with_newlib() -> bool:
    # The firmware links with --specs=nano.specs, which newlib provides.
    if not _on_path("arm-none-eabi-gcc"):
        return False
    out = subprocess.run(
        ["arm-none-eabi-gcc", "-print-file-name=nano.specs"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.returncode == 0 and os.path.isabs(out.stdout.strip())


def _clang_with_libfuzzer() -> bool:
    # Debian's clang package leaves the fuzzer runtime to libclang-rt-<N>-dev.
    if not _on_path("clang"):
        return False
    out = subprocess.run(
        ["clang", "-print-resource-dir"], capture_output=True, text=True, check=False
    )
    resources = Path(out.stdout.strip())
    return out.returncode == 0 and any((resources / "lib").rglob("libclang_rt.fuzzer*"))


@dataclass(frozen=True)
class Tool:
    what: str  # as the skip or failure names it
    packages: str  # the Debian packages scripts/bootstrap installs for it
    present: Callable[[], bool]


TOOLS = {
    "gcc": Tool("host gcc", "gcc libc6-dev", lambda: _on_path("gcc")),
    "arm_gcc": Tool(
        "arm-none-eabi-gcc with newlib",
        "gcc-arm-none-eabi libnewlib-arm-none-eabi",
        _arm_gcc_with_newlib,
    ),
    "qemu": Tool("qemu-system-arm", "qemu-system-arm", lambda: _on_path("qemu-system-arm")),
    "clang": Tool("clang with libFuzzer", "clang libclang-rt-dev", _clang_with_libfuzzer),
    "chromium": Tool(
        "chromium", "chromium", lambda: _on_path("chromium") or _on_path("chromium-browser")
    ),
    "make": Tool("make", "make", lambda: _on_path("make")),
    "cmake": Tool("cmake", "cmake", lambda: _on_path("cmake")),
}
MARKERS = {f"needs_{key}": key for key in TOOLS}


@functools.lru_cache(maxsize=None)
def _tool_present(key: str, path: str) -> bool:  # per PATH, so a test can hide a tool
    return TOOLS[key].present()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_tool(key: str) -> None:
    """Skip the calling test when the tool is missing; fail it under CI=true."""
    tool = TOOLS[key]
    if _tool_present(key, os.environ.get("PATH", "")):
        return
    message = f"{tool.what} is not installed (Debian: {tool.packages}); run scripts/bootstrap"
    if _in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session", name="require_tool")
def require_tool_fixture():
    """``require_tool("arm_gcc")`` inside a fixture that needs the tool (marks cannot go on fixtures)."""
    return require_tool


TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "firmware", "integration")
_TOOLS_NEEDED = pytest.StashKey[list[str]]()


def tier_of(path: Path) -> str | None:
    """The tier folder (unit, firmware, integration) a test file sits in, if any."""
    try:
        parts = path.resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def _tools_needed(item: pytest.Item) -> list[str]:
    """What the test needs, by marker or through a fixture that calls require_tool."""
    needs = sorted({m.name for m in item.iter_markers() if m.name in MARKERS})
    if "require_tool" in getattr(item, "fixturenames", ()):
        needs.append("require_tool")
    return needs


@pytest.hookimpl(tryfirst=True)  # before -m selects on the markers added here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item.path)
        if tier is None:
            continue
        item.add_marker(tier)
        if tier == "integration":
            item.add_marker("slow")
        if tier == "unit":
            needs = _tools_needed(item)
            if needs:
                item.stash[_TOOLS_NEEDED] = needs


@pytest.hookimpl(tryfirst=True)  # before any fixture is set up
def pytest_runtest_setup(item):
    needs = item.stash.get(_TOOLS_NEEDED, None)
    if needs:  # fails even where the tool is missing, so a skip cannot hide it
        pytest.fail(
            f"tests/unit/ is for pure Python, but this test needs {', '.join(needs)}: "
            "move it to tests/firmware/ (builds, host-built firmware) or "
            "tests/integration/ (QEMU, chromium, wheels)",
            pytrace=False,
        )
    for marker in item.iter_markers():
        if marker.name in MARKERS:
            require_tool(MARKERS[marker.name])


def find_shared() -> Path | None:
    """The shared ground-truth folder next to the repository, if present."""
    path = REPO.parent / "shared"
    return path if path.is_dir() else None


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the calling test when it is missing."""
    root = find_shared()
    path = root.joinpath(*parts) if root else None
    if path is None or not path.exists():
        pytest.skip(f"shared ground truth {'/'.join(parts) or '.'} not available")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return shared_path()


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The main golden-vector set (SIMD-path outputs)."""
    return shared_path("conformance", "cmsis-nn-q7")


@pytest.fixture(scope="session")
def plain_vectors_dir() -> Path:
    """Plain-C-path pooling outputs."""
    return shared_path("conformance", "cmsis-nn-q7-plain")


@pytest.fixture(scope="session")
def shared_file():
    """``shared_file("models", ...)``: a path under ../shared, skipping when absent."""
    return shared_path


def _live_qemu_children(parent: int | None = None) -> list[int]:
    """PIDs of live qemu-system-* processes whose parent is ``parent`` (this test process)."""
    parent = os.getpid() if parent is None else parent
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        state, ppid = text[text.rindex(")") + 2 :].split()[:2]
        if name.startswith("qemu-system") and int(ppid) == parent and state != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def qemu_children():
    """Call it to list the QEMU processes this test process (or the pid given) started
    that still run."""
    return _live_qemu_children


def _logged_layers(log: Path) -> list[tuple[int, int]]:
    """(vector, layer) of every whole layer record in a hil run's JSON Lines log."""
    import json

    out = []
    for line in log.read_text().splitlines() if log.exists() else ():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut mid-write by a killed run
        if rec.get("record") == "layer":
            out.append((rec["vector"], rec["layer"]))
    return out


@pytest.fixture
def logged_layers():
    """Call it with a run log's path: the (vector, layer) pairs judged so far."""
    return _logged_layers
