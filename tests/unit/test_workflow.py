"""The nightly GitHub Actions workflow: it cannot run here, so check what it says it does.

Its `hil run` command lines are parsed by the real CLI, so a renamed option
fails here instead of at 2 a.m.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

yaml = pytest.importorskip("yaml", reason="pyyaml is in the test extra: pip install -e '.[test]'")

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"
BOARDS = {"qemu-m7", "qemu-m4", "qemu-m3", "qemu-m55"}


@pytest.fixture(scope="module")
def wf() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _triggers(wf: dict) -> dict:
    return wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as True


def _steps(wf: dict, job: str) -> list[dict]:
    return wf["jobs"][job]["steps"]


def _runs(wf: dict, job: str) -> list[str]:
    return [s["run"] for s in _steps(wf, job) if "run" in s]


def _hil_runs(wf: dict, job: str) -> list[list[str]]:
    """Every `hil run` invocation of a job, with `\\` line continuations folded."""
    out = []
    for script in _runs(wf, job):
        for cmd in script.replace("\\\n", " ").splitlines():
            if "hil run" in cmd:
                words = shlex.split(cmd)
                out.append(words[words.index("run") + 1 :])
    return out


def _parse_run(args: list[str], env: dict[str, str]) -> dict:
    from hil.cli import app

    args = [
        re.sub(r"\$(\w+)|\$\{(\w+)\}", lambda m: env[m.group(1) or m.group(2)], a) for a in args
    ]
    cmd = typer.main.get_command(app)
    ctx = cmd.make_context("hil", ["run", *args], resilient_parsing=False)
    sub = cmd.get_command(ctx, "run")
    assert sub is not None
    return sub.make_context("run", args).params


def test_triggers_nightly_and_by_hand(wf):
    on = _triggers(wf)
    crons = [s["cron"] for s in on["schedule"]]
    assert crons and all(len(c.split()) == 5 for c in crons)
    assert "workflow_dispatch" in on


def test_jobs_run_on_debian_with_the_bootstrap_packages(wf):
    bootstrap = (REPO / "scripts" / "bootstrap").read_text()
    needed = set(re.search(r"debian_packages=\(([^)]*)\)", bootstrap).group(1).split())
    assert needed, "scripts/bootstrap lists its Debian packages"
    installed = set(wf["env"]["DEBIAN_PACKAGES"].split())
    assert needed <= installed
    for name, job in wf["jobs"].items():
        assert job["runs-on"].startswith("ubuntu-"), name
        assert job["container"].startswith("debian:"), name
        assert any("apt-get install" in r and "$DEBIAN_PACKAGES" in r for r in _runs(wf, name)), (
            name
        )
        assert any(s.get("uses", "").startswith("actions/checkout@") for s in _steps(wf, name)), (
            name
        )


def test_runs_the_test_suite(wf):
    assert any(r.strip().startswith("./scripts/test") for r in _runs(wf, "test"))


def test_hil_run_on_the_three_emulated_boards_with_all_reports(wf):
    from hil.config.boards import load_board

    job = wf["jobs"]["run"]
    assert job["needs"] == "test"
    assert set(job["strategy"]["matrix"]["board"]) == BOARDS
    for board in BOARDS:
        assert load_board(board).kind == "qemu"
    env = {
        **wf["env"],
        **job["env"],
        "BOARD": "qemu-m7",
        "REPORTS": "reports/qemu-m7",
        "LAST_BASELINE": ".hil-baseline/qemu-m7.json",
    }
    runs = [_parse_run(args, env) for args in _hil_runs(wf, "run")]
    full = [p for p in runs if p["json_path"]]
    assert len(full) == 1
    p = full[0]
    assert p["board"] == "qemu-m7" and p["vectors"] == int(env["VECTORS"])
    for key in ("json_path", "junit_path", "html_path", "save_baseline_path"):
        assert str(p[key]).startswith(env["REPORTS"] + "/"), key
    uploads = [
        s for s in _steps(wf, "run") if s.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert len(uploads) == 1 and uploads[0]["if"] == "always()"
    assert uploads[0]["with"]["path"].rstrip("/") == "reports/${{ matrix.board }}"
    assert "${{ matrix.board }}" in uploads[0]["with"]["name"]


def test_baseline_gate_step(wf):
    gate = next(s for s in _steps(wf, "run") if s.get("name") == "Baseline gate")
    job = wf["jobs"]["run"]
    env = {
        **wf["env"],
        **job["env"],
        "BOARD": "qemu-m4",
        "REPORTS": "reports/qemu-m4",
        "LAST_BASELINE": ".hil-baseline/qemu-m4.json",
    }
    gated = [_parse_run(a, env) for a in _hil_runs(wf, "run")]
    gated = [p for p in gated if p["baseline_path"]]
    assert len(gated) == 1
    assert str(gated[0]["baseline_path"]) == env["LAST_BASELINE"]
    assert gated[0]["max_regression"] == "0%"
    assert "hil run" in gate["run"] and "reset_baselines" in gate["if"]
    names = [s.get("uses", "") for s in _steps(wf, "run")]
    restore = names.index(next(n for n in names if n.startswith("actions/cache/restore@")))
    save = names.index(next(n for n in names if n.startswith("actions/cache/save@")))
    assert restore < _steps(wf, "run").index(gate) < save


def test_the_baseline_is_gated_as_it_was_recorded(wf):
    """An exact gate compares like with like: same dump mode, model, vectors and seed."""
    job = wf["jobs"]["run"]
    env = {
        **wf["env"],
        **job["env"],
        "BOARD": "qemu-m3",
        "REPORTS": "reports/qemu-m3",
        "LAST_BASELINE": ".hil-baseline/qemu-m3.json",
    }
    runs = [_parse_run(a, env) for a in _hil_runs(wf, "run")]
    saved = next(p for p in runs if p["save_baseline_path"])
    gated = next(p for p in runs if p["baseline_path"])
    # said explicitly: the default differs between emulators and boards
    assert saved["dump"] is not None and gated["dump"] is not None
    for key in ("dump", "model", "vectors", "seed", "board", "inputs"):
        assert saved[key] == gated[key], key
    # the gate reads what the save wrote, carried over through the cache
    keep = next(s for s in _steps(wf, "run") if s.get("name", "").startswith("Keep this run"))
    assert '"$REPORTS/$BOARD-$HIL_MODEL-baseline.json" "$LAST_BASELINE"' in keep["run"]
    assert (
        str(saved["save_baseline_path"])
        == f"{env['REPORTS']}/qemu-m3-{env['HIL_MODEL']}-baseline.json"
    )


def test_the_test_report_is_uploaded_even_on_failure(wf):
    up = [s for s in _steps(wf, "test") if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert up and up[0]["if"] == "always()"
    assert any("--junitxml=reports/" in r for r in _runs(wf, "test"))


def _hil_commands(wf: dict, job: str, sub: str) -> list[list[str]]:
    """Every `hil SUB` invocation of a job, `\\` continuations folded: the words after SUB."""
    out = []
    for script in _runs(wf, job):
        for cmd in script.replace("\\\n", " ").splitlines():
            if f"hil {sub}" in cmd:
                words = shlex.split(cmd)
                out.append(words[words.index(sub) + 1 :])
    return out


def _parse(sub: str, args: list[str], env: dict[str, str]) -> dict:
    """``args`` of `hil SUB`, ``$VAR`` replaced from ``env``, parsed by the real CLI."""
    from hil.cli import app

    args = [
        re.sub(r"\$(\w+)|\$\{(\w+)\}", lambda m: env[m.group(1) or m.group(2)], a) for a in args
    ]
    cmd = typer.main.get_command(app)
    ctx = cmd.make_context("hil", [sub, *args], resilient_parsing=False)
    command = cmd.get_command(ctx, sub)
    assert command is not None
    return command.make_context(sub, args).params


def test_differential_conformance_against_genuine_cmsis_5(wf):
    from hil.config.boards import load_board

    job = wf["jobs"]["conformance"]
    assert job["needs"] == "test"
    paths = {(m["board"], m["variant"]) for m in job["strategy"]["matrix"]["include"]}
    assert paths == {("qemu-m7", "dsp"), ("qemu-m3", "plain")}
    for board, variant in paths:  # one board per kernel path, each paired with its own
        assert load_board(board).variant == variant
    steps = _steps(wf, "conformance")
    runs = [s.get("run", "") for s in steps]

    # CMSIS_5 at 5.9.0, shallow and sparse: only what the firmware build takes.
    fetch = next(i for i, r in enumerate(runs) if "git clone" in r)
    clone = shlex.split(runs[fetch].replace("\\\n", " ").splitlines()[0])
    assert "https://github.com/ARM-software/CMSIS_5" in clone
    assert clone[clone.index("--branch") + 1] == "5.9.0"
    assert clone[clone.index("--depth") + 1] == "1" and "--sparse" in clone
    sparse = next(line for line in runs[fetch].splitlines() if "sparse-checkout set" in line)
    wanted = {"CMSIS/NN", "CMSIS/Core/Include", "CMSIS/DSP/Include"}
    assert set(shlex.split(sparse)[shlex.split(sparse).index("set") + 1 :]) == wanted
    assert any(r.strip() == "./scripts/bootstrap" for r in runs[:fetch])

    env = {**wf["env"], **job["env"], "BOARD": "qemu-m3", "VARIANT": "plain", "CASE_SEED": "7"}
    env["GOLDEN"] = "conformance/qemu-m3"
    commands = [
        _parse("conformance", a, env) for a in _hil_commands(wf, "conformance", "conformance")
    ]
    (gen,) = [p for p in commands if p["generate"]]
    assert str(gen["generate"]) == env["GOLDEN"] and gen["directory"] is None
    assert gen["board"] == "qemu-m3" and str(gen["cmsis_nn"]) == env["CMSIS_5"]
    assert gen["random_cases"] == int(env["CASES"]) > 0 and gen["seed"] == 7
    replays = [p for p in commands if p["directory"] is not None]
    host = [p for p in replays if p["board"] is None]
    device = [p for p in replays if p["board"] is not None]
    assert len(host) == len(device) == 1 and len(replays) == 2
    assert str(host[0]["directory"]) == env["GOLDEN"] and host[0]["variant"] == "plain"
    assert str(device[0]["directory"]) == env["GOLDEN"] and device[0]["board"] == "qemu-m3"
    assert device[0]["cmsis_nn"] is None  # the portable kernels, not the library again

    # In order, each replay running whenever the set was made.
    order = [i for i, r in enumerate(runs) if "hil conformance" in r]
    generate, *replay_steps = order
    assert fetch < generate < min(replay_steps)
    gen_id = steps[generate]["id"]
    for i in replay_steps:
        assert f"steps.{gen_id}.outcome == 'success'" in steps[i]["if"]
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()"
    assert upload["with"]["path"].rstrip("/") == "conformance/${{ matrix.board }}"
