"""Held-out data sets that ship with hil, by name: float inputs and their labels.

Each is ``hil/datasets/<name>.npz`` (shipped as package data) with the keys
``x`` (integers in the float model's layout, e.g. uint8 N x 1 x 28 x 28),
``scale`` (what one step of ``x`` is worth as a float, e.g. 1/255) and ``y``
(int64 class ids). ``hil run --dataset NAME`` runs ``x * scale`` with labels ``y``.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hil.datadirs import PACKAGE
from hil.errors import ConfigError

DATASETS_DIR = PACKAGE / "datasets"


@dataclass(frozen=True)
class Dataset:
    name: str
    x: np.ndarray  # float32, (N, *the float model's input shape)
    y: np.ndarray  # int64 class ids, (N,)


def known_datasets(directory: Path = DATASETS_DIR) -> list[str]:
    """Names of the data sets in ``directory``, sorted."""
    return sorted(p.stem for p in directory.glob("*.npz")) if directory.is_dir() else []


def load_dataset(name: str, directory: Path = DATASETS_DIR) -> Dataset:
    """Data set ``name`` as float inputs and labels; unknown names list the known ones."""
    path = directory / f"{name}.npz"
    if "/" in name or "\\" in name or not path.is_file():
        known = ", ".join(known_datasets(directory)) or "none installed"
        raise ConfigError(
            f"unknown data set {name!r} (known: {known})",
            hint="pass one of the known names, or --inputs X.npy --labels Y.npy for your own",
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ConfigError(
            f"data set {name} ({path}) is not a readable .npz: {exc}",
            hint="reinstall hil to restore its data files",
        ) from None
    missing = [k for k in ("x", "scale", "y") if k not in arrays]
    if missing:
        raise ConfigError(
            f"data set {name} ({path}) lacks the key(s) {', '.join(missing)}",
            hint="a data set holds x (inputs), scale (float per step of x) and y (labels)",
        )
    x, scale, y = arrays["x"], arrays["scale"], arrays["y"]
    if scale.size != 1 or not np.issubdtype(scale.dtype, np.floating):
        raise ConfigError(
            f"data set {name}: scale must be one float, got {scale.dtype} of shape {scale.shape}",
            hint="store scale as a float scalar, e.g. np.float32(1 / 255)",
        )
    return Dataset(name, (x * scale.reshape(())).astype(np.float32), y)
