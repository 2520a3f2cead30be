"""`hil export`: the module's files, its hashes, --force, and every refusal as one line
before anything is written. The cross toolchain is hidden (PATH), so the size report
gives what is known without compiling; tests/firmware/test_export_sizes.py compiles."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from hil.cli import main
from hil.config.boards import load_board
from hil.errors import ConfigError
from hil.export.files import build_export
from hil.export.sizes import measure_export
from hil.firmware.toolchain import INSTALL_HINT
from hil.model.hashing import model_hash
from hil.model.io import load_model

from helpers.cmsis_trees import cmsis5


@pytest.fixture(autouse=True)
def no_cross_toolchain(tmp_path, monkeypatch):
    """A PATH without arm-none-eabi-gcc, and no CMSIS-NN from the environment."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for name in ("HIL_CMSIS_NN", "HIL_CMSIS_CORE", "HIL_MODEL", "HIL_BOARD"):
        monkeypatch.delenv(name, raising=False)


def export(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["export", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def flat(text: str) -> str:
    """Console output with rich's line wrapping undone."""
    return " ".join(text.split())


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_files_are_written_and_the_printed_hash_is_that_of_sha256sums(tmp_path, capsys):
    out = tmp_path / "out"
    code, text, err = export(["-m", "lenet5-mnist", "--out", str(out)], capsys)
    assert code == 0, err
    expected = build_export(load_model("lenet5-mnist"), "lenet5_mnist").files
    assert tree(out) == expected
    digest = hashlib.sha256((out / "SHA256SUMS").read_bytes()).hexdigest()
    assert f"export hash {digest}" in text
    assert f"first 8 bytes: {digest[:16]}" in text
    assert f"model hash {model_hash(load_model('lenet5-mnist')).hex()}" in text
    for path in ("lenet5_mnist.h", "kernels/src/arm_relu_q7.c"):
        assert path.rsplit("/", 1)[-1] in text
    # The sums check out as sha256sum -c would check them.
    for line in (out / "SHA256SUMS").read_text().splitlines():
        sha, path = line.split("  ", 1)
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == sha


def test_without_the_toolchain_it_exports_and_gives_the_known_sizes(tmp_path, capsys):
    code, text, _ = export(["--out", str(tmp_path / "out")], capsys)
    assert code == 0
    header = (tmp_path / "out" / "cifar10.h").read_text()
    scratch = re.search(r"#define CIFAR10_SCRATCH_SIZE (\d+)u", header)
    assert scratch is not None
    words = flat(text)
    assert f"CIFAR10_SCRATCH_SIZE, RAM you provide) │ {int(scratch.group(1)):,}" in words
    assert "weights and biases (const, flash) │ 33,210" in words
    assert "arm-none-eabi-gcc not found on PATH" in words and INSTALL_HINT in words


def test_the_known_sizes_are_the_headers(tmp_path):
    net = load_model("lenet5-mnist")
    exp = build_export(net, "mnist")
    report = measure_export(exp, load_board("qemu-m3"))
    header = exp.files["mnist.h"].decode()

    def macro(name: str) -> int:
        found = re.search(rf"#define MNIST_{name} (\d+)u", header)
        assert found is not None, name
        return int(found.group(1))

    assert not report.measured and INSTALL_HINT in (report.note or "")
    assert report.scratch == macro("SCRATCH_SIZE")
    assert (report.input, report.output) == (macro("INPUT_SIZE"), macro("OUTPUT_SIZE"))
    weights = sum(
        a.size for layer in net.layers for a in (layer.weights, layer.bias) if a is not None
    )
    assert report.weights == weights
    assert report.caller_ram == report.scratch + report.input + report.output


def test_two_exports_of_a_model_are_byte_identical(tmp_path, capsys):
    for folder in ("a", "b"):
        assert export(["--out", str(tmp_path / folder)], capsys)[0] == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_force_replaces_an_earlier_export_and_leaves_other_files_alone(tmp_path, capsys):
    out = tmp_path / "out"
    assert export(["--out", str(out), "--name", "first"], capsys)[0] == 0
    (out / "notes.txt").write_text("mine\n")
    before = tree(out)
    code, text, err = export(["--out", str(out), "--name", "second"], capsys)
    assert code == 2 and "is not empty" in flat(err) and "--force" in flat(err) and not text
    assert tree(out) == before  # refused: nothing touched

    assert export(["--out", str(out), "--name", "second", "--force"], capsys)[0] == 0
    after = tree(out)
    assert (out / "notes.txt").read_text() == "mine\n"
    assert not [p for p in after if p.startswith("first")]
    assert {p for p in after if p != "notes.txt"} == set(
        build_export(load_model("cifar10"), "second").files
    )


def test_the_help_says_force_leaves_other_files_alone(capsys):
    assert main(["export", "--help"]) == 0
    assert "other files are left alone" in flat(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--name", "9lives"], "--name '9lives' is not a C identifier"),
        (["--name", "int"], "--name 'int' is a C keyword"),
        (["--name", "with-dash"], "--name 'with-dash' is not a C identifier"),
        (["--backend", "tflm"], "--backend 'tflm' is not a backend"),
        (["--backend", "cmsis-nn"], "the module includes arm_nnfunctions.h from your CMSIS-NN"),
        (["--cmsis-nn", "{tmp}"], "--cmsis-nn does nothing without --backend cmsis-nn"),
        (["--backend", "cmsis-nn", "--cmsis-nn", "{tmp}"], "is neither a CMSIS_5 checkout"),
        (["--backend", "cmsis-nn", "--cmsis-nn", "{tmp}/cmsis-nn-4"], "has no legacy q7 API"),
        (["--board", "no-such-board"], "unknown board 'no-such-board'"),
        (["-m", "no-such-model"], "no-such-model"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, args, words):
    cmsis5(tmp_path / "cmsis-nn-4", legacy=False)
    out = tmp_path / "out"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, text, err = export(["--out", str(out), *args], capsys)
    assert code == ConfigError.exit_code
    assert err.startswith("error:") and err.count("error:") == 1 and "Traceback" not in err
    assert words in flat(err) and "hint:" in err
    assert not text and not out.exists()


def test_cmsis_nn_without_headers_says_how_to_point_at_them(tmp_path, capsys):
    code, _, err = export(["--out", str(tmp_path / "out"), "--backend", "cmsis-nn"], capsys)
    assert code == 2
    words = flat(err)
    assert "legacy q7 API, CMSIS_5 up to 5.9.0" in words
    assert "--cmsis-nn (or HIL_CMSIS_NN)" in words and "--backend portable" in words


def test_a_genuine_checkout_exports_a_module_without_kernels(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HIL_CMSIS_NN", str(cmsis5(tmp_path / "cmsis5")))
    out = tmp_path / "out"
    code, text, err = export(["--out", str(out), "--backend", "cmsis-nn"], capsys)
    assert code == 0, err
    assert tree(out) == build_export(load_model("cifar10"), "cifar10", "cmsis-nn").files
    assert not (out / "kernels").exists() and "export hash" in text


def _out_is_a_file(tmp: Path) -> None:
    (tmp / "out").write_text("x")


def _out_under_a_file(tmp: Path) -> None:
    (tmp / "file").write_text("x")


def _out_holds_a_file(tmp: Path) -> None:
    (tmp / "out").mkdir()
    (tmp / "out" / "a").write_text("x")


@pytest.mark.parametrize(
    ("make", "where", "words"),
    [
        (_out_is_a_file, "out", "out is not a folder"),
        (_out_under_a_file, "file/out", "file is not a folder"),
        (_out_holds_a_file, "out", "out is not empty"),
    ],
)
def test_an_unusable_out_is_refused(tmp_path, capsys, make, where, words):
    make(tmp_path)
    before = tree(tmp_path)
    code, text, err = export(["--out", str(tmp_path / where)], capsys)
    assert code == 2 and err.count("error:") == 1 and "Traceback" not in err
    assert err.startswith("error: --out ") and words in flat(err) and not text
    assert tree(tmp_path) == before


def test_force_refuses_a_folder_in_the_way_of_a_file(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "cifar10.h").mkdir(parents=True)
    (out / "kernels").write_text("not a folder\n")
    before = tree(tmp_path)
    code, text, err = export(["--out", str(out), "--force"], capsys)
    assert code == 2 and "is in the way" in flat(err) and not text
    assert tree(tmp_path) == before
