"""Emulated counts repeat run to run, so a tight baseline gate works (QEMU, lenet5 on qemu-m7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.cli import main
from hil.config.boards import load_board
from hil.device.connect import open_device, prepare_image
from hil.model.inputs import generated_inputs
from hil.model.io import load_model
from hil.validate.baseline import baseline_from_report, compare_counts
from hil.validate.check import check_vectors
from hil.validate.run_report import RunInfo, RunReport

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.needs_qemu,
    pytest.mark.needs_arm_gcc,
]

BOARD, MODEL = "qemu-m7", "lenet5"


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hil-build")


def _run_once(build_root: Path):
    board, net = load_board(BOARD), load_model(MODEL)
    image = prepare_image(board, net, build_root=build_root)
    with open_device(board, image, log_dir=build_root / "logs", timeout=10.0) as dev:
        report = RunReport(
            net,
            RunInfo(
                net.name,
                board.id,
                dev.info.variant,
                dev.info.backend,
                dev.counts,
                device={"build_id": dev.info.build_id, "model_hash": dev.info.model_hash.hex()},
            ),
        )
        check_vectors(
            dev.session, net, generated_inputs(net, 2, 0), report, variant=dev.info.variant
        )
    return report


def test_two_runs_of_one_image_pass_an_exact_gate(build_root):
    first, second = (baseline_from_report(_run_once(build_root)) for _ in range(2))
    assert first.build_id == second.build_id and first.unit == "instructions"
    assert all(l.count > 0 for l in first.layers)
    assert [l.count for l in first.layers] == [l.count for l in second.layers]
    for a, b in ((first, second), (second, first)):
        comparison = compare_counts(a, b, 0.0)
        assert comparison.passed, [(r.name, r.baseline, r.now) for r in comparison.regressions]


def _hil(build_root: Path, *args: str) -> int:
    return main(["run", "-b", BOARD, "-m", MODEL, "-n", "1", "--build-dir", str(build_root), *args])


def test_cli_saves_gates_and_refuses_other_boards(build_root, tmp_path, capsys):
    saved = tmp_path / "base.json"
    assert _hil(build_root, "--save-baseline", str(saved)) == 0
    data = json.loads(saved.read_text())
    assert (data["board"], data["count_source"], data["unit"]) == (
        BOARD,
        "qemu-icount",
        "instructions",
    )

    assert _hil(build_root, "--baseline", str(saved), "--max-regression", "0%") == 0

    cheaper = dict(
        data,
        layers=[
            dict(l, count=int(l["count"] * 0.9)) if l["name"] == "conv2" else l
            for l in data["layers"]
        ],
    )
    tight = tmp_path / "tight.json"
    tight.write_text(json.dumps(cheaper))
    capsys.readouterr()
    assert _hil(build_root, "--baseline", str(tight)) == 6
    out = capsys.readouterr()
    assert "conv2" in out.err and "+11.1" in out.out

    other = tmp_path / "other.json"
    other.write_text(json.dumps(dict(data, board="qemu-m4")))
    assert _hil(build_root, "--baseline", str(other)) == 2
    assert "qemu-m4" in capsys.readouterr().err
