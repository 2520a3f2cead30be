"""Validated == shipped: the image `hil run` validates runs the module `hil export`
writes. The board's HELLO carries that export's hash, and the build's copy of the
module is the exported folder file for file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hil.cli import main

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]


@pytest.mark.parametrize(
    ("model", "name"), [("cifar10", "cifar10"), ("lenet5-mnist", "lenet5_mnist")]
)
def test_the_board_runs_the_exported_module(tmp_path: Path, capsys, model: str, name: str):
    out = tmp_path / "export"
    assert main(["export", "--model", model, "--out", str(out)]) == 0
    export_hash = hashlib.sha256((out / "SHA256SUMS").read_bytes()).hexdigest()
    report = tmp_path / "run.json"
    build = tmp_path / "build"
    code = main(
        [
            "run", "--model", model, "--vectors", "1",
            "--json", str(report), "--build-dir", str(build),
        ]
    )  # fmt: skip
    capsys.readouterr()
    assert code == 0
    device = json.loads(report.read_text())["info"]["device"]
    assert device["export_hash"] == export_hash[:16]
    (built,) = build.glob(f"*/{model}-*/generated/export")
    shipped = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert shipped == sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file())
    for rel in shipped:
        assert (built / rel).read_bytes() == (out / rel).read_bytes(), rel
    assert name in json.loads((out / "hil-export.json").read_text())["name"]


def test_run_export_validates_the_folder_under_its_own_name(tmp_path: Path, capsys):
    out = tmp_path / "mynet"
    assert main(["export", "-m", "lenet5-mnist", "--name", "mynet", "--out", str(out)]) == 0
    export_hash = hashlib.sha256((out / "SHA256SUMS").read_bytes()).hexdigest()
    report = tmp_path / "run.json"
    args = ["run", "-m", "lenet5-mnist", "--vectors", "1", "--build-dir", str(tmp_path / "b")]
    assert main([*args, "--export", str(out), "--json", str(report)]) == 0
    capsys.readouterr()
    assert json.loads(report.read_text())["info"]["device"]["export_hash"] == export_hash[:16]
    (built,) = (tmp_path / "b").glob("*/lenet5-mnist-*/generated/export")
    assert (built / "mynet.c").read_bytes() == (out / "mynet.c").read_bytes()
