"""`hil model import-cmsis-example`: Arm's CIFAR-10 snapshot as a model file any command takes."""

from __future__ import annotations

import numpy as np

from hil.cli import main
from hil.model.cmsis_import import import_cmsis_cifar10_example
from hil.model.hashing import model_hash
from hil.model.io import load_model


def _snapshot(shared_dir):
    return shared_dir / "models" / "cmsis-nn-cifar10-example" / "example.npz"


def test_writes_the_model_and_its_test_image(shared_dir, tmp_path, capsys):
    out = tmp_path / "models" / "cifar.toml"
    assert (
        main(["model", "import-cmsis-example", str(_snapshot(shared_dir)), "--out", str(out)]) == 0
    )
    assert "hil run --model" in capsys.readouterr().out
    want, x = import_cmsis_cifar10_example(_snapshot(shared_dir))
    got = load_model(str(out))
    assert model_hash(got) == model_hash(want) and got.name == "cmsis_cifar10"
    image = np.load(tmp_path / "models" / "cifar-input.npy")
    assert image.dtype == np.int8 and image.shape == (1, *want.input_shape)
    np.testing.assert_array_equal(image[0], x)


def test_refuses_to_overwrite_and_bad_paths_in_one_line(shared_dir, tmp_path, capsys):
    out = tmp_path / "cifar.toml"
    args = ["model", "import-cmsis-example", str(_snapshot(shared_dir)), "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    capsys.readouterr()
    bad = ["model", "import-cmsis-example", str(tmp_path / "none.npz"), "--out", str(out)]
    assert main([*bad, "--force"]) == 2
    text = capsys.readouterr()
    assert "does not exist" in text.out + text.err and "Traceback" not in text.out + text.err
    txt = ["model", "import-cmsis-example", str(_snapshot(shared_dir)), "--out", "m.txt"]
    assert main(txt) == 2
    assert "must name a .toml file" in "".join(capsys.readouterr())
