"""Output paths: every bad one refused before any work, and nothing but a regular
file ever replaced (character devices, FIFOs and symlink targets are written through).

Writes go to private stand-ins, never to the machine's own /dev/stdout or /dev/full:
a writer that replaced its target would replace those for everyone (we run as
root). A symlink to /dev/stdout and a mknod'ed copy of /dev/full in tmp_path take
the same paths through the code. Through a real run on QEMU:
tests/integration/test_output_paths_runs.py.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from hil.cli import main
from hil.errors import ConfigError
from hil.outputs import check_distinct, check_output_dir, check_output_file, write_text

from helpers.output_stand_ins import (
    fifo_reader,
    full_device_in,
    one_error,
    regular_file,
    stdout_link_in,
)

RUN = ["run", "-b", "qemu-m3", "-m", "lenet5", "-n", "1"]
RUN_FILE_OPTIONS = ("--json", "--junit", "--html", "--log", "--save-baseline")

# What root cannot write either: /proc and /sys refuse new files, and nothing goes
# under a regular file.
BAD_FILES = {
    "under /proc": lambda tmp: Path("/proc/hil-no-such-dir/report"),
    "new folder under /proc": lambda tmp: Path("/proc/hil-a/b/report"),
    "in /sys": lambda tmp: Path("/sys/hil-report"),
    "existing file in /proc": lambda tmp: Path("/proc/version"),
    "parent is a file": lambda tmp: regular_file(tmp / "plain") / "report",
    "grandparent is a file": lambda tmp: regular_file(tmp / "plain") / "sub" / "report",
    "a folder": lambda tmp: _folder(tmp / "reports"),
    "name over 255 bytes": lambda tmp: tmp / ("r" * 256),
    "path over 4 KB": lambda tmp: tmp.joinpath(*["d" * 200] * 21) / "report",
    "symlink loop": lambda tmp: _loop(tmp),
}


@pytest.fixture(autouse=True)
def _unwrapped_errors(monkeypatch):
    """Long temporary paths would make rich wrap the one error line."""
    from hil.cli.console import err_console

    monkeypatch.setattr(err_console, "width", 10_000)


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _loop(tmp: Path) -> Path:
    (tmp / "loop").symlink_to(tmp / "loop")
    return tmp / "loop"


@pytest.fixture
def stdout_link(tmp_path) -> Path:
    return stdout_link_in(tmp_path)


@pytest.fixture
def full_device(tmp_path) -> Path:
    return full_device_in(tmp_path)


@pytest.mark.parametrize("option", RUN_FILE_OPTIONS)
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_run_refuses_a_bad_output_file_before_building(tmp_path, capsys, option, case):
    bad = BAD_FILES[case](tmp_path)
    root = tmp_path / "build"
    code = main(RUN + ["--build-dir", str(root), option, str(bad)])
    assert code == 2
    one_error(capsys.readouterr().err, option)
    assert not root.exists()  # nothing built, nothing locked
    assert not list(tmp_path.glob("**/*.tmp"))


@pytest.mark.parametrize(
    "case",
    [
        "under /proc",
        "in /sys",
        "parent is a file",
        "a file",
        "name over 255 bytes",
        "path over 4 KB",
    ],
)
def test_run_refuses_a_bad_build_dir(tmp_path, capsys, case):
    bad = regular_file(tmp_path / "f") if case == "a file" else BAD_FILES[case](tmp_path)
    code = main(RUN + ["--build-dir", str(bad)])
    assert code == 2
    one_error(capsys.readouterr().err, "--build-dir")


def test_a_build_dir_whose_results_folder_is_a_file_is_refused(tmp_path, capsys):
    root = _folder(tmp_path / "build")
    regular_file(root / "results")
    assert main(RUN + ["--build-dir", str(root)]) == 2
    one_error(capsys.readouterr().err, "--build-dir", "results")
    assert sorted(p.name for p in root.iterdir()) == ["results"]


@pytest.mark.parametrize(
    "env, named", [("HIL_CACHE_DIR", "$HIL_CACHE_DIR"), ("XDG_CACHE_HOME", "$XDG_CACHE_HOME")]
)
@pytest.mark.parametrize("command", ["run", "build"])
def test_an_unwritable_object_cache_is_refused_naming_its_setting(
    tmp_path, capsys, monkeypatch, env, named, command
):
    monkeypatch.delenv("HIL_CACHE_DIR", raising=False)
    monkeypatch.setenv(env, str(regular_file(tmp_path / "cache")))
    root = tmp_path / "build"
    args = RUN if command == "run" else ["build", "-b", "qemu-m3", "-m", "lenet5"]
    assert main(args + ["--build-dir", str(root)]) == 2
    line = one_error(capsys.readouterr().err, named)
    assert "not a folder" in line
    assert not root.exists()


@pytest.mark.parametrize(
    "args, option",
    [
        (["soak", "-b", "qemu-m3", "-m", "lenet5", "-n", "1", "--json", "{bad}"], "--json"),
        (
            ["soak", "-b", "qemu-m3", "-m", "lenet5", "-n", "1", "--build-dir", "{bad}"],
            "--build-dir",
        ),
        (["build", "-b", "qemu-m3", "-m", "lenet5", "--build-dir", "{bad}"], "--build-dir"),
        (["flash", "-b", "qemu-m3", "-m", "lenet5", "--build-dir", "{bad}"], "--build-dir"),
        (
            ["bench", "device", "--board", "qemu-m3", "--model", "lenet5", "--build-dir", "{bad}"],
            "--build-dir",
        ),
        (
            ["bench", "devices", "--board", "qemu-m3", "--model", "lenet5", "--build-dir", "{bad}"],
            "--build-dir",
        ),
        (["conformance", "{vectors}", "--board", "qemu-m3", "--build-dir", "{bad}"], "--build-dir"),
        (["model", "export", "lenet5", "{bad}"], "DIRECTORY"),
    ],
)
def test_other_commands_check_what_they_write_first(tmp_path, capsys, args, option):
    bad = regular_file(tmp_path / "plain") / "out"
    vectors = _folder(tmp_path / "vectors")
    argv = [a.format(bad=bad, vectors=vectors) for a in args]
    assert main(argv) == 2
    one_error(capsys.readouterr().err, option, "not a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "vectors"]


def test_model_export_refuses_a_folder_where_its_file_goes(tmp_path, capsys):
    _folder(tmp_path / "lenet5.toml")
    assert main(["model", "export", "lenet5", str(tmp_path), "--force"]) == 2
    one_error(capsys.readouterr().err, "lenet5.toml", "is a folder")
    assert not (tmp_path / "lenet5.npz").exists()


def test_two_reports_on_one_file_are_refused(tmp_path, capsys):
    out = tmp_path / "r.out"
    assert (
        main(RUN + ["--build-dir", str(tmp_path / "b"), "--json", str(out), "--junit", str(out)])
        == 2
    )
    one_error(capsys.readouterr().err, "--json", "--junit")
    with pytest.raises(ConfigError, match="--html and --log"):
        check_distinct({"--html": tmp_path / "a", "--log": tmp_path / "x" / ".." / "a"})
    check_distinct({"--json": Path("/dev/stdout"), "--junit": Path("/dev/stdout")})


# -- what the checks allow, and how writing treats it -----------------------


@pytest.mark.parametrize("path", [Path("/dev/null"), Path("/dev/stdout"), Path("/dev/full")])
def test_character_devices_pass_the_check(path):
    check_output_file(path, "--json")


def test_missing_folders_are_fine_when_they_can_be_created(tmp_path):
    target = tmp_path / "reports" / "ci" / "r.json"
    check_output_file(target, "--json")
    check_output_dir(tmp_path / "new" / "build", "--build-dir")
    assert not (tmp_path / "reports").exists() and not (tmp_path / "new").exists()
    write_text(target, "{}\n")
    assert target.read_text() == "{}\n"


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        with pytest.raises(ConfigError, match="is a socket"):
            check_output_file(path, "--json")
        with pytest.raises(ConfigError, match="not a regular file"):
            write_text(path, "x")
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_a_regular_file_is_replaced_whole_keeping_its_mode(tmp_path):
    path = regular_file(tmp_path / "r.json")
    path.chmod(0o640)
    before = path.stat().st_ino
    write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != before  # replaced by rename, never half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_a_symlink_is_kept_and_its_target_written(tmp_path):
    _folder(tmp_path / "real")
    target = regular_file(tmp_path / "real" / "r.json")
    link = tmp_path / "link.json"
    link.symlink_to(Path("real") / "r.json")
    check_output_file(link, "--json")
    write_text(link, "through\n")
    assert link.is_symlink() and os.readlink(link) == "real/r.json"
    assert target.read_text() == "through\n"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "real" / "new.json")
    write_text(dangling, "made\n")
    assert dangling.is_symlink() and (tmp_path / "real" / "new.json").read_text() == "made\n"
    assert not list(tmp_path.glob("**/*.tmp"))


def test_a_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    with fifo_reader(fifo) as got:
        check_output_file(fifo, "--json")
        write_text(fifo, "streamed\n")
    assert got == [b"streamed\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("how", ["link to /dev/stdout", "/proc/self/fd/1"])
def test_stdout_is_written_through(capfd, stdout_link, how):
    path = stdout_link if how.startswith("link") else Path("/proc/self/fd/1")
    check_output_file(path, "--json")
    write_text(path, '{"to": "stdout"}\n')
    assert capfd.readouterr().out == '{"to": "stdout"}\n'
    assert stdout_link.is_symlink()


def test_a_full_device_is_one_error_naming_the_path(full_device):
    with pytest.raises(ConfigError, match=rf"cannot write --json {full_device}: No space left"):
        write_text(full_device, "x" * 100_000, "--json")
    assert stat.S_ISCHR(os.lstat(full_device).st_mode)


def test_a_folder_is_refused_and_no_tmp_is_left_beside_it(tmp_path):
    folder = _folder(tmp_path / "out.json")
    with pytest.raises(ConfigError, match="is a folder"):
        write_text(folder, "x", "--json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_failed_write_leaves_the_old_file_and_no_tmp(tmp_path):
    path = regular_file(tmp_path / "r.json")
    with pytest.raises(UnicodeEncodeError):
        write_text(path, "bad \udc80 text")
    assert path.read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
