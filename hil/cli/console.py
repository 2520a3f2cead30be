"""Shared rich consoles and the --verbose switch."""

from __future__ import annotations

import os
import sys

from rich.console import Console

# Logs (CI, pipes) get wide tables instead of rich's 80-column default.
_width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200

console = Console(highlight=False, width=_width)
err_console = Console(stderr=True, highlight=False, width=_width)

_verbose = False


def set_verbose(on: bool) -> None:
    global _verbose
    _verbose = on


def verbose() -> bool:
    return _verbose


def say_plain(text: str) -> None:
    """Progress from lower layers (places acquired, waits), printed as it is."""
    console.print(text, markup=False)
