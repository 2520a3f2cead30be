"""Input tensors for a run: from a user's .npy file or generated from a seed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hil.errors import ConfigError
from hil.model import Network
from hil.model.npy_file import load_npy


def load_inputs(path: Path, network: Network) -> np.ndarray:
    """Vectors of ``path`` as int8 (N, *input_shape). One unbatched tensor is N = 1."""
    shape = tuple(network.input_shape)
    want = f"int8 of shape (N, {', '.join(map(str, shape))}) or {shape}"
    if path.is_dir():
        raise ConfigError(
            f"input file {path} is a directory, not a .npy file",
            hint=f"pass the .npy file itself, holding {want}",
        )
    x = load_npy(path, "input file", want)
    if x.dtype != np.int8:
        raise ConfigError(
            f"inputs in {path} have dtype {x.dtype}, model {network.name} takes int8 (q7)",
            hint="quantise the inputs to q7 first, e.g. np.clip(np.round(x * 2**frac), -128, 127).astype(np.int8)",
        )
    if x.shape == shape:
        x = x[None]
    if x.ndim == len(shape) + 1 and x.shape[1:] == shape:
        if x.shape[0] == 0:
            raise ConfigError(f"input file {path} holds no vectors", hint=f"save {want}")
        return np.ascontiguousarray(x)
    raise ConfigError(
        f"inputs in {path} have shape {x.shape}, model {network.name} takes {want}",
        hint="reshape the array (HWC order for images)",
    )


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # no sysconf (Windows)
        return 8 << 30


def most_vectors(network: Network) -> int:
    """How many generated vectors a run may hold: they are all in memory at once, and may
    take at most half of this machine's memory."""
    return max(1, _memory_bytes() // 2 // network.input_size)


def generated_inputs(network: Network, count: int, seed: int) -> np.ndarray:
    """``count`` seeded random vectors spanning the int8 range."""
    if count < 1:
        raise ConfigError(f"--vectors must be at least 1, got {count}", hint="e.g. --vectors 8")
    if seed < 0:
        raise ConfigError(f"--seed {seed} must be 0 or more", hint="e.g. --seed 1")
    limit = most_vectors(network)
    if count > limit:
        raise ConfigError(
            f"--vectors {count} would need {count * network.input_size:,} B of inputs in "
            f"memory; this machine holds at most {limit:,} vectors of {network.name} (half "
            f"of its {_memory_bytes() / 2**30:.1f} GiB)",
            hint=f"use --vectors {limit} or fewer; for more, run again with another --seed",
        )
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, size=(count, *network.input_shape), dtype=np.int8)
