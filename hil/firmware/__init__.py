"""Firmware for a board: the model tables (codegen) and the cross build (build)."""

from __future__ import annotations

import os
from pathlib import Path


def firmware_root() -> Path:
    """The firmware source tree: repo-root/firmware, or $HIL_FIRMWARE_DIR."""
    env = os.environ.get("HIL_FIRMWARE_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "firmware"
