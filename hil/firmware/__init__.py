"""Firmware for a board: the model tables (codegen) and the cross build (build)."""

from __future__ import annotations

import os
from pathlib import Path

from hil.datadirs import data_dir


def firmware_root() -> Path:
    """The firmware source tree: $HIL_FIRMWARE_DIR, else firmware/ as installed
    with hil (or the checkout's). Only read: builds write under their build dir."""
    env = os.environ.get("HIL_FIRMWARE_DIR")
    return Path(env) if env else data_dir("firmware")
