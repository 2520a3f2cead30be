"""Data sets by name: float inputs x * scale with their labels, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest

from hil.errors import ConfigError
from hil.model.datasets import DATASETS_DIR, known_datasets, load_dataset


def _write(directory, name="digits", **arrays):
    directory.mkdir(exist_ok=True)
    np.savez(directory / f"{name}.npz", **arrays)


def test_inputs_are_x_times_scale_and_labels_are_y(tmp_path):
    x = np.array([[[0, 255]], [[51, 102]]], dtype=np.uint8)
    _write(tmp_path, x=x, scale=np.float32(1 / 255), y=np.array([3, 7], np.int64))
    d = load_dataset("digits", tmp_path)
    assert d.x.dtype == np.float32 and d.x.shape == (2, 1, 2)
    np.testing.assert_allclose(d.x, [[[0.0, 1.0]], [[0.2, 0.4]]], rtol=1e-6)
    assert d.y.tolist() == [3, 7]


def test_an_unknown_name_lists_the_known_ones(tmp_path):
    _write(tmp_path, "a", x=np.zeros(1), scale=np.float32(1), y=np.zeros(1, np.int64))
    _write(tmp_path, "b", x=np.zeros(1), scale=np.float32(1), y=np.zeros(1, np.int64))
    assert known_datasets(tmp_path) == ["a", "b"]
    with pytest.raises(ConfigError, match=r"unknown data set 'c' \(known: a, b\)"):
        load_dataset("c", tmp_path)
    with pytest.raises(ConfigError, match="unknown data set"):
        load_dataset("../a", tmp_path)


def test_a_data_set_without_labels_or_with_a_bad_scale_is_refused(tmp_path):
    _write(tmp_path, "nolabels", x=np.zeros(1), scale=np.float32(1))
    with pytest.raises(ConfigError, match="lacks the key"):
        load_dataset("nolabels", tmp_path)
    _write(tmp_path, "badscale", x=np.zeros(1), scale=np.arange(2.0), y=np.zeros(1, np.int64))
    with pytest.raises(ConfigError, match="scale must be one float"):
        load_dataset("badscale", tmp_path)
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="not a readable .npz"):
        load_dataset("broken", tmp_path)


def test_shipped_data_sets_hold_inputs_and_labels_of_one_count():
    for name in known_datasets(DATASETS_DIR):
        d = load_dataset(name)
        assert len(d.x) == len(d.y) > 0
        assert np.issubdtype(d.y.dtype, np.integer)
