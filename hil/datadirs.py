"""Where the repository's top-level data folders (boards/, firmware/) are at run time."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
INSTALLED = PACKAGE / "_data"  # filled by setup.py's build step (wheel, sdist install)


def data_dir(name: str) -> Path:
    """``name`` as installed inside the package, else the checkout's top-level
    folder (source tree, editable install). Read-only either way: builds write
    to their own build directory."""
    installed = INSTALLED / name
    return installed if installed.is_dir() else PACKAGE.parent / name
