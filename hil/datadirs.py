"""Where the repository's top-level data folders (boards/, firmware/) are at run time."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
INSTALLED = PACKAGE / "_data"  # filled by setup.py's build step (wheel, sdist install)


def data_dir(name: str) -> Path:
    """``name`` as installed inside the package, else the checkout's top-level
    folder (source tree, editable install). Read-only either way: builds write
    to their own build directory."""
    installed = INSTALLED / name
    return installed if installed.is_dir() else PACKAGE.parent / name


def firmware_root() -> Path:
    """The firmware source tree: $HIL_FIRMWARE_DIR, else firmware/ as installed
    with hil (or the checkout's). Only read: builds write under their build dir."""
    env = os.environ.get("HIL_FIRMWARE_DIR")
    return Path(env) if env else data_dir("firmware")
