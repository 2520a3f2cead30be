"""Models that ship with hil as files (hil/models/<name>.toml + .npz, and the float
model they were imported from): trained networks, loaded by name like the examples."""

from __future__ import annotations

from pathlib import Path

PACKAGED_DIR = Path(__file__).resolve().parent.parent / "models"


def packaged_models() -> dict[str, Path]:
    """Name -> model file, for every model in hil/models/."""
    if not PACKAGED_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(PACKAGED_DIR.glob("*.toml"))}
