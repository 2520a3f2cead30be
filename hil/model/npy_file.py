"""Reading one array from a .npy file a user gave: a missing, unreadable or
multi-array file is one ConfigError line naming the option and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hil.errors import ConfigError


def load_npy(path: Path, what: str, want: str) -> np.ndarray:
    """The array in ``path``; ``what`` names it in messages ("input file"), ``want``
    says what it should hold ("int8 (N, 28, 28, 1)")."""
    if not Path(path).is_file():
        raise ConfigError(f"{what} {path} does not exist", hint=f"pass a .npy file holding {want}")
    try:
        x = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ConfigError(
            f"{what} {path} is not a readable .npy array: {exc}",
            hint=f"save it with numpy.save as {want}",
        ) from None
    if not isinstance(x, np.ndarray):
        raise ConfigError(
            f"{what} {path} holds several arrays, not one",
            hint=f"save a single array with numpy.save as {want}",
        )
    return x
