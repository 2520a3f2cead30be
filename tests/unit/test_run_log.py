"""One JSON Lines log per run, a latest link, one run per build directory at a time,
and --resume refusals that say in words what differs. Through real runs on QEMU:
tests/integration/test_run_log_runs.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hil.cli import main
from hil.errors import ConfigError
from hil.model.hashing import model_hash
from hil.model.inputs import generated_inputs
from hil.model.io import load_model
from hil.report.run_log import build_dir_lock, latest_link, latest_log, new_log_path, point_latest
from hil.validate.resume import LazyLog, PreviousRun, check_same_run, inputs_digest, inputs_record

BOARD, MODEL = "qemu-m3", "lenet5"
RUN = ["run", "-b", BOARD, "-m", MODEL, "-n", "1"]


@pytest.fixture(autouse=True)
def _unwrapped_errors(monkeypatch):
    """Long temporary paths would make rich wrap the one error line."""
    from hil.cli.console import err_console

    monkeypatch.setattr(err_console, "width", 10_000)


def _error_line(err: str) -> str:
    errors = [l for l in err.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


# -- log names and the latest link ------------------------------------------


def test_every_run_gets_a_log_of_its_own(tmp_path):
    at = 1796158800.0  # 2026-12-01 21:00:00 UTC
    first = new_log_path(tmp_path, BOARD, MODEL, now=at)
    assert first == tmp_path / "results" / "qemu-m3-lenet5-20261201T210000Z.jsonl"
    first.parent.mkdir()
    first.write_text("")
    second = new_log_path(tmp_path, BOARD, MODEL, now=at)  # a second run in the same second
    assert second.name == "qemu-m3-lenet5-20261201T210000Z_002.jsonl"
    created = [first.name]
    for _ in range(11):  # more runs in that second: names sort in the order they started
        path = new_log_path(tmp_path, BOARD, MODEL, now=at)
        path.write_text("")
        created.append(path.name)
    assert created[1] == second.name and created[-1].endswith("Z_012.jsonl")
    assert sorted(p.name for p in first.parent.iterdir()) == created


def test_the_latest_link_is_relative_and_replaced_in_place(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    for name in ("a.jsonl", "b.jsonl"):
        (results / name).write_text(name)
        point_latest(tmp_path, BOARD, MODEL, results / name)
        link = latest_link(tmp_path, BOARD, MODEL)
        assert os.readlink(link) == name
        assert latest_log(tmp_path, BOARD, MODEL) == results / name
    assert sorted(p.name for p in results.iterdir()) == [
        "a.jsonl",
        "b.jsonl",
        "qemu-m3-lenet5-latest.jsonl",
    ]


def test_lazy_log_points_the_link_on_its_first_write_only(tmp_path):
    calls = []
    with LazyLog(tmp_path / "run.jsonl", on_open=lambda: calls.append(1)):
        pass
    assert calls == [] and not (tmp_path / "run.jsonl").exists()
    with LazyLog(tmp_path / "run.jsonl", on_open=lambda: calls.append(1)) as log:
        log.write("a\n")
        log.write("b\n")
    assert calls == [1] and (tmp_path / "run.jsonl").read_text() == "a\nb\n"


def test_a_log_that_cannot_be_written_is_one_error_naming_it():
    with pytest.raises(ConfigError, match="cannot write the log /dev/full: No space left"):
        with LazyLog(Path("/dev/full")) as log:
            log.write("{}\n")
            log.flush()


# -- the build directory lock ---------------------------------------------


def test_a_second_run_in_a_locked_build_dir_is_refused_with_the_holders_pid(tmp_path, capsys):
    root = tmp_path / "build"
    with build_dir_lock(root):
        assert main(RUN + ["--build-dir", str(root)]) == 2
    line = _error_line(capsys.readouterr().err)
    assert f"in use by another hil run (pid {os.getpid()})" in line
    assert sorted(p.name for p in root.iterdir()) == ["run.lock"]  # nothing built
    with build_dir_lock(root):  # released when the holder ended
        pass


def test_the_lock_of_another_process_names_it_and_dies_with_it(tmp_path, capsys):
    root = tmp_path / "build"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from hil.report.run_log import build_dir_lock\n"
            "with build_dir_lock(pathlib.Path(sys.argv[1])):\n"
            "    print('held', flush=True); sys.stdin.read()",
            str(root),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        assert main(RUN + ["--build-dir", str(root)]) == 2
        err = capsys.readouterr().err
        assert f"(pid {holder.pid})" in _error_line(err)
        assert "wait for that run to finish, or give this one another --build-dir" in err
    finally:
        holder.kill()
        holder.wait()
    with build_dir_lock(root):
        pass


# -- --resume refusals in words -------------------------------------------


def _previous(inputs: dict | None) -> PreviousRun:
    run = {"record": "run", "model": "m", "board": "b", "inputs_sha256": "x" * 64}
    if inputs is not None:
        run["inputs"] = inputs
    return PreviousRun(run, [])


@pytest.mark.parametrize(
    "logged, now, says, fix",
    [
        (
            {"vectors": 4, "seed": 0},
            {"vectors": 4, "seed": 3},
            "the logged run used --seed 0, this one --seed 3",
            "rerun with --seed 0, or without --resume",
        ),
        (
            {"vectors": 16, "seed": 0},
            {"vectors": 4, "seed": 0},
            "the logged run used -n 16, this one -n 4",
            "rerun with -n 16, or without --resume",
        ),
        (
            {"vectors": 16, "seed": 0},
            {"vectors": 4, "seed": 2},
            "the logged run used -n 16 --seed 0, this one -n 4 --seed 2",
            "rerun with -n 16 --seed 0,",
        ),
        (
            {"path": "/data/a.npy"},
            {"path": "/data/b.npy"},
            "the logged run used --inputs /data/a.npy, this one --inputs /data/b.npy",
            "rerun with --inputs /data/a.npy, or without --resume",
        ),
        (
            {"path": "/data/a.npy"},
            {"path": "/data/a.npy"},
            "/data/a.npy changed since the logged run",
            "restore that file, or without --resume",
        ),
        (
            {"path": "/data/a.npy"},
            {"vectors": 4, "seed": 0},
            "the logged run used --inputs /data/a.npy, this one generated vectors (-n 4 --seed 0)",
            "rerun with --inputs /data/a.npy",
        ),
        (
            {"vectors": 4, "seed": 1},
            {"path": "/data/a.npy"},
            "the logged run used generated vectors (-n 4 --seed 1), this one --inputs /data/a.npy",
            "rerun with -n 4 --seed 1 instead of --inputs",
        ),
        (
            None,
            {"vectors": 4, "seed": 0},
            "its input tensors differ from this run's",
            "rerun with the options of the logged run",
        ),
    ],
)
def test_an_inputs_refusal_says_what_differs(logged, now, says, fix):
    with pytest.raises(ConfigError) as caught:
        check_same_run(
            _previous(logged), {"inputs_sha256": "y" * 64, "inputs": now}, Path("run.jsonl")
        )
    assert (
        caught.value.message == f"--resume: run.jsonl was written for inputs of another run: {says}"
    )
    assert fix in caught.value.hint


def test_inputs_record_names_a_file_by_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert inputs_record(Path("x.npy"), 4, 0) == {"path": str(tmp_path / "x.npy")}
    assert inputs_record(None, 4, 7) == {"vectors": 4, "seed": 7}


def _write_run_log(path: Path, seed: int, vectors: int = 1) -> Path:
    """The run record a real `hil run -n VECTORS --seed SEED` of lenet5 on qemu-m3 writes."""
    net = load_model(MODEL)
    record = {
        "record": "run",
        "model": MODEL,
        "board": BOARD,
        "inputs_sha256": inputs_digest(generated_inputs(net, vectors, seed)),
        "inputs": {"vectors": vectors, "seed": seed},
        "device": {"model_hash": model_hash(net)[:8].hex()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record) + "\n")
    return path


def test_resume_with_another_seed_is_refused_in_words_before_building(tmp_path, capsys):
    log = _write_run_log(tmp_path / "run.jsonl", seed=0)
    root = tmp_path / "build"
    assert main(RUN + ["--build-dir", str(root), "--log", str(log), "--seed", "3", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "the logged run used --seed 0, this one --seed 3" in _error_line(err)
    assert "hint: rerun with --seed 0, or without --resume" in err
    assert sorted(p.name for p in root.iterdir()) == ["run.lock"]


def test_resume_without_log_continues_the_latest_run(tmp_path, capsys):
    root = tmp_path / "build"
    log = _write_run_log(root / "results" / "qemu-m3-lenet5-20261201T210000Z.jsonl", seed=0)
    point_latest(root, BOARD, MODEL, log)
    assert main(RUN[:-1] + ["2", "--build-dir", str(root), "--resume"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert f"--resume: {log} was written for inputs of another run" in line
    assert "the logged run used -n 1, this one -n 2" in line


def test_resume_without_any_earlier_run_says_so(tmp_path, capsys):
    root = tmp_path / "build"
    assert main(RUN + ["--build-dir", str(root), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "--resume: no earlier run of lenet5 on qemu-m3 in" in _error_line(err)
    assert "run once without --resume, or pass the log with --log" in err
