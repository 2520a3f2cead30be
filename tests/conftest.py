"""Shared fixtures. ../shared (next to the repo) holds read-only ground truth:
golden vectors and the CIFAR-10 example snapshot. Tests read it in place and
skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


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


def _live_qemu_children() -> list[int]:
    """PIDs of live qemu-system-* processes whose parent is this test process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        state, ppid = text[text.rindex(")") + 2:].split()[:2]
        if name.startswith("qemu-system") and int(ppid) == os.getpid() and state != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def qemu_children():
    """Call it to list the QEMU processes this test process started that still run."""
    return _live_qemu_children
