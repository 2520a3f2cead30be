"""Commands cut short on a real emulator: Ctrl-C, SIGTERM and a killed QEMU.

Each command runs as its own process, signalled the way a terminal (the
whole foreground process group) or a CI runner (SIGTERM) would; the
emulator it started must be gone afterwards and nothing may read as a pass.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hil.cli import main

from helpers.signals import default_sigint

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]
REPO = Path(__file__).resolve().parents[2]
BOARD, MODEL = "qemu-m7", "cifar10"


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hil-build")
    # Build once, so that every signal below lands in the middle of the work itself.
    assert main(["build", "--board", BOARD, "--model", MODEL, "--build-dir", str(root)]) == 0
    assert main(["build", "--board", BOARD, "--model", "lenet5", "--build-dir", str(root)]) == 0
    return root


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from hil.cli import main; sys.exit(main(sys.argv[1:]))",
            *args,
        ],
        cwd=REPO,
        start_new_session=True,
        preexec_fn=default_sigint,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(condition, proc: subprocess.Popen, what: str, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the command ended before {what}: {proc.communicate()}"
        if condition():
            return
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"timed out waiting for {what}")


def _finish(proc: subprocess.Popen, emulators: list[int]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=60)
    for pid in emulators:  # the emulator the command started is gone with it
        assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split(
            ") "
        )[1].startswith("Z"), f"QEMU {pid} outlived the command"
    return proc.returncode, out, err


def _run_with_reports(vectors: int, build_root: Path, tmp_path: Path, children, logged):
    """``hil run -n vectors`` with every report, once three vectors are judged: the
    process and its emulators."""
    log = tmp_path / "run.jsonl"
    proc = _start(["run", "-b", BOARD, "-m", MODEL, "-n", str(vectors),
                   "--build-dir", str(build_root), "--log", str(log),
                   "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml"),
                   "--html", str(tmp_path / "r.html")])  # fmt: skip
    _wait_for(lambda: len({v for v, _ in logged(log)}) >= 3, proc, "three judged vectors")
    return proc, children(proc.pid)


def _assert_incomplete_reports(tmp_path: Path, requested: int, reason: str) -> None:
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["passed"] is False and report["complete"] is False
    assert report["vectors_requested"] == requested
    assert 0 < report["vectors_done"] < requested
    assert reason in report["incomplete_reason"]
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert [e.get("type") for e in suite.findall("testcase/error")] == ["incomplete"]
    html = (tmp_path / "r.html").read_text()
    assert 'class="banner"' in html and '<span class="pass">' not in html


@pytest.mark.parametrize("sig, name", ((signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")))
def test_an_interrupted_run_exits_130_and_every_report_says_incomplete(
    sig, name, build_root, tmp_path, qemu_children, logged_layers
):
    proc, emulators = _run_with_reports(400, build_root, tmp_path, qemu_children, logged_layers)
    assert emulators
    # A terminal's Ctrl-C goes to the whole foreground process group.
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
    code, out, err = _finish(proc, emulators)
    assert code == 130, err
    assert "INTERRUPTED after" in err and "of 400 vectors" in err
    assert "PASS" not in out and "INCOMPLETE" in out
    _assert_incomplete_reports(tmp_path, 400, f"interrupted ({name})")


def test_a_killed_emulator_is_named_as_gone_and_the_reports_say_incomplete(
    build_root, tmp_path, qemu_children, logged_layers
):
    proc, emulators = _run_with_reports(200, build_root, tmp_path, qemu_children, logged_layers)
    os.kill(emulators[0], signal.SIGKILL)
    code, out, err = _finish(proc, emulators)
    assert code == 4, err
    said = " ".join(err.split())  # the console wraps long lines
    assert "error: the device is gone: QEMU" in said and "was killed by SIGKILL" in said
    assert "qemu.log" in said
    assert "baud" not in err and "cable" not in err  # no link advice for a dead process
    assert "resync" not in err and "attempts" not in err  # no retries against it
    _assert_incomplete_reports(tmp_path, 200, "the device is gone")


def _interrupt_once_started(args: list[str], sig: int, settle: float, children):
    """Start a command, let it work ``settle`` s once its emulator is up, then signal its
    process group as a terminal (SIGINT) or a CI runner (SIGTERM) would."""
    proc = _start(args)
    _wait_for(lambda: bool(children(proc.pid)), proc, "the emulator")
    time.sleep(settle)
    emulators = children(proc.pid)
    os.killpg(proc.pid, sig)
    return _finish(proc, emulators)


def test_an_interrupted_soak_exits_130_and_its_json_says_incomplete(
    build_root, tmp_path, qemu_children
):
    code, out, err = _interrupt_once_started(
        [
            "soak",
            "-b",
            BOARD,
            "-m",
            MODEL,
            "-n",
            "400",
            "--build-dir",
            str(build_root),
            "--json",
            str(tmp_path / "soak.json"),
        ],
        signal.SIGINT,
        3,
        qemu_children,
    )
    assert code == 130, err
    assert "INTERRUPTED after" in err
    soak = json.loads((tmp_path / "soak.json").read_text())
    assert soak["complete"] is False and soak["passed"] is False
    assert soak["vectors_requested"] == 400 and soak["vectors_done"] < 400


def test_an_interrupted_device_benchmark_exits_130_with_no_figures(build_root, qemu_children):
    code, out, err = _interrupt_once_started(
        ["bench", "device", "--board", BOARD, "--model", MODEL, "--build-dir", str(build_root)],
        signal.SIGTERM,
        1,
        qemu_children,
    )
    assert code == 130, err
    assert "INTERRUPTED" in err and "vectors/s" not in out


def test_interrupted_device_conformance_gives_no_verdict(vectors_dir, build_root, qemu_children):
    code, out, err = _interrupt_once_started(
        ["conformance", str(vectors_dir), "--board", BOARD, "--build-dir", str(build_root)],
        signal.SIGINT,
        2,
        qemu_children,
    )
    assert code == 130, err
    assert "INTERRUPTED after" in err and "cases" in err
    assert "passed" not in out
