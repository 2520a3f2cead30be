"""The code is lint-clean, formatted and, in the typed packages, type-clean.

Configuration lives in pyproject.toml ([tool.ruff], [tool.mypy]); these run
the same tools a developer runs, so a dirty tree fails the suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SOURCES = ["hil", "tests", "scripts"]


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)


def test_ruff_lint_is_clean():
    done = _run(str(BIN / "ruff"), "check", *SOURCES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_leaves_nothing_to_change():
    done = _run(str(BIN / "ruff"), "format", "--check", *SOURCES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean_on_the_typed_packages():
    done = _run(sys.executable, "-m", "mypy")
    assert done.returncode == 0, done.stdout + done.stderr
