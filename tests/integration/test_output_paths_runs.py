"""Output paths through a real run (lenet5 on qemu-m3): a report goes through a symlink
to stdout, a symlink and a FIFO without replacing them, and a full device gives the
verdict then one error. The path checks themselves: tests/unit/test_output_paths.py."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from hil.cli import main

from helpers.output_stand_ins import (
    fifo_reader,
    full_device_in,
    one_error,
    regular_file,
    stdout_link_in,
)

RUN = ["run", "-b", "qemu-m3", "-m", "lenet5", "-n", "1"]


@pytest.fixture(autouse=True)
def _unwrapped_errors(monkeypatch):
    """Long temporary paths would make rich wrap the one error line."""
    from hil.cli.console import err_console

    monkeypatch.setattr(err_console, "width", 10_000)


@pytest.fixture
def stdout_link(tmp_path) -> Path:
    return stdout_link_in(tmp_path)


@pytest.fixture
def full_device(tmp_path) -> Path:
    return full_device_in(tmp_path)


def needs_tools(test):
    return pytest.mark.needs_qemu(pytest.mark.needs_arm_gcc(test))


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hil-build")


@pytest.mark.qemu
@needs_tools
def test_a_run_writes_to_stdout_a_symlink_and_a_fifo(build_root, tmp_path, capfd, stdout_link):
    real = regular_file(tmp_path / "junit-real.xml")
    link = tmp_path / "junit.xml"
    link.symlink_to(real.name)
    fifo = tmp_path / "page.html"
    with fifo_reader(fifo) as got:
        code = main(
            RUN
            + [
                "--build-dir",
                str(build_root),
                "--json",
                str(stdout_link),
                "--junit",
                str(link),
                "--html",
                str(fifo),
            ]
        )
    out = capfd.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    report, _ = json.JSONDecoder().raw_decode("\n".join(lines[lines.index("{") :]))
    assert report["passed"] is True and report["info"]["model"] == "lenet5"
    assert link.is_symlink() and "<testsuite" in real.read_text()
    assert got[0].startswith(b"<!DOCTYPE html>")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and stdout_link.is_symlink()
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.qemu
@needs_tools
def test_a_run_into_a_full_device_prints_its_verdict_then_one_error(build_root, capfd, full_device):
    code = main(RUN + ["--build-dir", str(build_root), "--json", str(full_device)])
    out, err = capfd.readouterr()
    assert code == 2
    assert "PASS: " in out
    one_error(err, str(full_device), "No space left on device")
    assert stat.S_ISCHR(os.lstat(full_device).st_mode)
