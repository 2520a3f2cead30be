"""`--dataset` for s8 models: a shipped data set (the float model's NCHW layout) is
transposed to NHWC and quantised with the input tensor's scale and zero point, giving
the same vectors as the same digits passed as an NHWC --inputs file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hil.cli import main
from hil.errors import ConfigError
from hil.model.io import load_any_model
from hil.validate.accuracy import load_run_data

from helpers.s8_model_file import write_s8_model

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "lenet5_mnist" / "to_int8_tflite.py"


@pytest.fixture(scope="module")
def lenet5(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("s8-dataset")
    subprocess.run([sys.executable, str(SCRIPT), str(d)], check=True, capture_output=True)
    assert main(["import", str(d / "lenet5_mnist_int8.tflite"), "--out", str(d / "l5.toml")]) == 0
    return d


def test_a_data_set_gives_the_vectors_of_its_nhwc_file(lenet5):
    net = load_any_model(lenet5 / "l5.toml")
    from_set = load_run_data(net, inputs=None, labels=None, dataset="mnist-test")
    from_file = load_run_data(
        net,
        inputs=lenet5 / "mnist_test_x.npy",
        labels=lenet5 / "mnist_test_y.npy",
        dataset=None,
    )
    assert from_set.x.shape == (1000, *net.input_shape) and from_set.x.dtype == np.int8
    assert np.array_equal(from_set.x, from_file.x)
    assert np.array_equal(from_set.labels, from_file.labels)
    assert np.array_equal(from_set.x_float, from_file.x_float)  # what the float model gets
    assert from_set.saturated == from_file.saturated
    assert from_set.made_from == {"dataset": "mnist-test"}
    assert len(np.unique(from_set.x)) > 100  # quantised through the scale, not clipped flat


def test_a_data_set_of_another_shape_is_refused_in_one_line(tmp_path, capsys):
    model = write_s8_model(tmp_path)  # a 16x16x3 input
    net = load_any_model(model)
    with pytest.raises(ConfigError, match="data set mnist-test does not fit model"):
        load_run_data(net, inputs=None, labels=None, dataset="mnist-test")
    code = main(["run", "--model", str(model), "--dataset", "mnist-test",
                 "--build-dir", str(tmp_path / "b")])  # fmt: skip
    said = capsys.readouterr()
    assert code != 0
    assert "data set mnist-test does not fit model" in said.err
    assert "Traceback" not in said.err + said.out
    assert not (tmp_path / "b").exists()  # refused before any build
