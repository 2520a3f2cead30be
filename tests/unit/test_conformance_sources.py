"""`hil conformance`'s sources of cases (DIR, --random, --generate): each combination
that makes no sense is one line naming the fix (exit 2), before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.cli import main
from hil.errors import ConfigError


def _refused(args: list[str], capsys, *words: str, build: Path | None = None) -> None:
    code = main(args)
    out = capsys.readouterr()
    text = out.err + out.out
    assert code == ConfigError.exit_code, text
    assert text.lstrip().startswith("error:") and "Traceback" not in text
    flat = " ".join(text.split())
    for word in words:
        assert word in flat, f"{word!r} not in: {flat}"
    if build is not None:  # refused up front: nothing was built or started
        assert not list(build.rglob("*.elf")) and not list(build.rglob("*.o"))


@pytest.mark.parametrize(
    "args, words",
    [
        (["--random", "5"], ["--random needs --board", "compared with itself", "--board BOARD"]),
        (["--generate", "{tmp}/set"], ["--generate needs --board", "--board BOARD"]),
        ([], ["no cases to run", "--random N", "--generate DIR"]),
        (["{vectors}", "--random", "5", "--board", "qemu-m7"], ["DIR and --random", "drop DIR"]),
        (["{vectors}", "--generate", "{tmp}/set", "--board", "qemu-m7"], ["DIR and --generate"]),
        (["{vectors}", "--seed", "3"], ["--seed applies to drawn cases", "drop --seed"]),
        (["{vectors}", "--save-failures", "{tmp}/f"], ["--save-failures applies to --random"]),
        (
            ["--generate", "{tmp}/set", "--save-failures", "{tmp}/f", "--board", "qemu-m7"],
            ["--save-failures applies to --random"],
        ),
        (["--random", "-1", "--board", "qemu-m7"], ["--random -1 must be 0 or more"]),
        (["--random", "3", "--seed", "-2", "--board", "qemu-m7"], ["--seed -2 must be 0 or more"]),
        (
            ["--random", "3", "--board", "qemu-m7", "--function", "arm_relu_q8"],
            ["--function arm_relu_q8: no such CMSIS-NN function", "arm_relu_q7"],
        ),
        (
            ["--random", "3", "--board", "qemu-m7", "--skip-function", "arm_relu_q8"],
            ["--skip-function arm_relu_q8"],
        ),
    ],
)
def test_sources_that_make_no_sense(args, words, vectors_dir, tmp_path, capsys):
    argv = [a.format(tmp=tmp_path, vectors=vectors_dir) for a in args]
    build = tmp_path / "build"
    _refused(["conformance", *argv, "--build-dir", str(build)], capsys, *words, build=build)


def test_generate_refuses_a_folder_that_holds_a_set(vectors_dir, tmp_path, capsys):
    build = tmp_path / "build"
    _refused(
        ["conformance", "--generate", str(vectors_dir), "--board", "qemu-m3"]
        + ["--build-dir", str(build)],
        capsys,
        "--generate",
        "already holds golden vectors",
        build=build,
    )


def test_save_failures_must_be_a_folder(tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.write_text("x")
    build = tmp_path / "build"
    _refused(
        ["conformance", "--random", "2", "--board", "qemu-m3", "--save-failures", str(plain)]
        + ["--build-dir", str(build)],
        capsys,
        "--save-failures",
        "not a folder",
        build=build,
    )


def test_function_is_repeatable_on_stored_sets(vectors_dir, capsys):
    code = main(
        ["conformance", str(vectors_dir), "--function", "arm_relu_q7"]
        + ["--function", "arm_softmax_q7"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "arm_relu_q7" in out and "arm_softmax_q7" in out and "arm_maxpool" not in out
    assert out.rstrip().splitlines()[-1] == "84 passed, 0 failed"  # 39 + 45
