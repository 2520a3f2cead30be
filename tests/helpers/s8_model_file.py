"""An s8 model file on disk (small_cnn lowered and saved, no TFLite Micro needed), for
tests that hand hil a model path the way a user does."""

from __future__ import annotations

from pathlib import Path

from hil.model.s8_io import save_s8_model
from hil.model.tflite.lower import lower_graph

from helpers.s8_models import small_cnn


def write_s8_model(directory: Path, name: str = "cnn", seed: int = 3) -> Path:
    """small_cnn(seed) as DIR/NAME.toml + NAME.npz; returns the .toml path."""
    network = lower_graph(small_cnn(seed)[0], name)
    toml, _npz = save_s8_model(network, Path(directory) / f"{name}.toml")
    return toml
