"""`hil model info` and `hil model export` through the CLI's error boundary."""

from __future__ import annotations

from hil.cli import main
from hil.model.examples import build_example
from hil.model.hashing import model_hash
from hil.model.io import load_model


def test_export_then_info_round_trip(tmp_path, capsys):
    assert main(["model", "export", "lenet5", str(tmp_path)]) == 0
    toml = tmp_path / "lenet5.toml"
    assert toml.exists() and toml.with_suffix(".npz").exists()
    assert model_hash(load_model(toml)) == model_hash(build_example("lenet5"))
    capsys.readouterr()
    assert main(["model", "info", str(toml)]) == 0
    out = capsys.readouterr().out
    assert "arm_convolve_HWC_q7_fast" in out and "5x5x16" in out
    assert "arena 7,840 B" in out
    assert model_hash(build_example("lenet5")).hex() in out


def test_export_refuses_to_overwrite(tmp_path, capsys):
    assert main(["model", "export", "lenet5", str(tmp_path)]) == 0
    assert main(["model", "export", "lenet5", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["model", "export", "lenet5", str(tmp_path), "--force", "--seed", "3"]) == 0
    assert model_hash(load_model(tmp_path / "lenet5.toml")) == model_hash(
        build_example("lenet5", seed=3)
    )


def test_info_of_unknown_model_is_a_config_error(capsys):
    assert main(["model", "info", "resnet"]) == 2
    err = capsys.readouterr().err
    assert "no model 'resnet'" in err and "cifar10" in err
