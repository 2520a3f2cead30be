"""Run logs through real runs (lenet5 on qemu-m3): two runs keep two logs, and
--resume takes the latest one and refuses a run with other inputs. The log names,
the latest link and the refusals: tests/unit/test_run_log.py."""

from __future__ import annotations

import json

import pytest

from hil.cli import main
from hil.report.run_log import latest_log

BOARD, MODEL = "qemu-m3", "lenet5"
RUN = ["run", "-b", BOARD, "-m", MODEL, "-n", "1"]


@pytest.fixture(autouse=True)
def _unwrapped_errors(monkeypatch):
    """Long temporary paths would make rich wrap the one error line."""
    from hil.cli.console import err_console

    monkeypatch.setattr(err_console, "width", 10_000)


@pytest.mark.qemu
@pytest.mark.needs_qemu
@pytest.mark.needs_arm_gcc
def test_two_runs_keep_two_logs_and_resume_takes_the_latest(tmp_path, capsys):
    root = tmp_path / "build"
    for seed in (0, 1):
        assert main(RUN + ["--build-dir", str(root), "--seed", str(seed)]) == 0
    results = root / "results"
    logs = sorted(p for p in results.iterdir() if not p.is_symlink())
    assert len(logs) == 2
    records = [json.loads(p.read_text().splitlines()[0]) for p in logs]
    assert [r["inputs"] for r in records] == [{"vectors": 1, "seed": 0}, {"vectors": 1, "seed": 1}]
    assert latest_log(root, BOARD, MODEL) == logs[1]
    # Each log holds its own run only: one run record, one vector's layers.
    for p in logs:
        kinds = [json.loads(l)["record"] for l in p.read_text().splitlines()]
        assert kinds.count("run") == 1 and kinds.count("layer") == 12
    capsys.readouterr()

    assert main(RUN + ["--build-dir", str(root), "--resume"]) == 2
    assert "the logged run used --seed 1, this one --seed 0" in capsys.readouterr().err
    assert main(RUN + ["--build-dir", str(root), "--seed", "1", "--resume"]) == 0
    assert sorted(p for p in results.iterdir() if not p.is_symlink()) == logs
