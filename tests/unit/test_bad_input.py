"""The bad-input matrix: every case exits non-zero with one clear line naming
the problem (and no traceback), before anything is built or started.

Each case starts from the lenet5 example exported as .toml + .npz and breaks
one thing; the README's reliability section quotes the number of cases.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from hil.cli import main
from hil.errors import ConfigError
from hil.model.examples import build_example
from hil.model.io import save_model


def _edit(pattern: str, repl: str, count: int = 1) -> Callable[[Path], None]:
    def apply(toml: Path) -> None:
        text = toml.read_text()
        new, n = re.subn(pattern, repl, text, count=count, flags=re.M)
        assert n, f"pattern {pattern!r} not in the model file"
        toml.write_text(new)

    return apply


def _arrays(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(toml: Path) -> None:
        npz = toml.with_suffix(".npz")
        with np.load(npz) as z:
            arrays = dict(z)
        change(arrays)
        np.savez(npz, **arrays)

    return apply


def _truncate(fraction: float, suffix: str = ".toml") -> Callable[[Path], None]:
    def apply(toml: Path) -> None:
        f = toml.with_suffix(suffix)
        data = f.read_bytes()
        f.write_bytes(data[: int(len(data) * fraction)])

    return apply


def _shrink(key: str) -> Callable[[dict], None]:
    return lambda a: a.__setitem__(key, a[key][:-1])


def _as_float(key: str) -> Callable[[dict], None]:
    return lambda a: a.__setitem__(key, a[key].astype(np.float32))


def _remove_npz(toml: Path) -> None:
    toml.with_suffix(".npz").unlink()


# (case id, how to break the model file, words the error line must contain)
MODEL_CASES = [
    ("malformed-toml", _edit(r"^format = 1$", "format = = 1"), ["lenet5.toml"]),
    ("truncated-toml", _edit(r'(description = "LeNet)[\s\S]*', r"\1"), ["lenet5.toml"]),
    ("future-format", _edit(r"^format = 1$", "format = 99"), ["format"]),
    (
        "unknown-function",
        _edit(r'"arm_convolve_HWC_q7_basic"', '"arm_convolve_HWC_q7_turbo"'),
        ["arm_convolve_HWC_q7_turbo"],
    ),
    ("missing-parameter", _edit(r"^out_shift = 9\n", ""), ["out_shift"]),
    ("shift-out-of-range", _edit(r"^out_shift = 9$", "out_shift = 40"), ["out_shift"]),
    ("non-integer-parameter", _edit(r"^dim_im_in = 28$", 'dim_im_in = "28"'), ["dim_im_in"]),
    ("inconsistent-shapes", _edit(r"^size = 6272$", "size = 6000"), ["relu1"]),
    (
        "input-shape-mismatch",
        _edit(r"^input_shape = \[28, 28, 1\]$", "input_shape = [32, 32, 1]"),
        ["input"],
    ),
    (
        "fast-layer-bad-channels",
        _edit(r'"arm_convolve_HWC_q7_basic"', '"arm_convolve_HWC_q7_fast"'),
        ["ch_im_in"],
    ),
    ("weights-wrong-size", _arrays(_shrink("conv1.weights")), ["conv1", "weights"]),
    ("weights-wrong-dtype", _arrays(_as_float("conv1.weights")), ["conv1", "weights"]),
    ("bias-wrong-size", _arrays(_shrink("fc1.bias")), ["fc1", "bias"]),
    ("weights-missing", _arrays(lambda a: a.pop("conv2.weights")), ["conv2.weights"]),
    ("npz-missing", _remove_npz, ["lenet5.npz"]),
    ("npz-truncated", _truncate(0.5, ".npz"), ["lenet5.npz"]),
]


@pytest.fixture
def model_file(tmp_path) -> Path:
    toml, _ = save_model(build_example("lenet5"), tmp_path / "lenet5.toml")
    return toml


def run(args: list[str], tmp_path: Path, capsys) -> tuple[int, str]:
    code = main(["run", "--build-dir", str(tmp_path / "build"), *args])
    out = capsys.readouterr()
    return code, out.err + out.out


def assert_clear(code: int, text: str, words: list[str], exit_code: int = ConfigError.exit_code):
    assert code == exit_code, text
    assert "Traceback" not in text
    line = next(l for l in text.splitlines() if l.startswith("error:"))
    for w in words:
        assert w.lower() in text.lower(), f"{w!r} not named in: {line}"


def test_the_example_model_file_itself_is_fine(model_file, tmp_path, capsys):
    # Sanity check for the matrix: only the one broken thing makes it fail.
    code, text = run(["--model", str(model_file), "--dump", "bogus"], tmp_path, capsys)
    assert_clear(code, text, ["--dump", "bogus"])


@pytest.mark.parametrize("case, breaks, words", MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_broken_model_file(case, breaks, words, model_file, tmp_path, capsys):
    breaks(model_file)
    code, text = run(["--model", str(model_file)], tmp_path, capsys)
    assert_clear(code, text, words)


def _npy(tmp_path: Path, array) -> str:
    path = tmp_path / "inputs.npy"
    np.save(path, array)
    return str(path)


OTHER_CASES = [
    ("unknown-board", lambda t: ["--board", "qemu-m99"], ["qemu-m99"]),
    ("board-file-malformed", lambda t: ["--board", _write(t / "b.toml", "id = = 1")], ["b.toml"]),
    ("unknown-model", lambda t: ["--model", "resnet50"], ["resnet50"]),
    ("model-file-missing", lambda t: ["--model", str(t / "nope.toml")], ["nope.toml"]),
    ("inputs-missing", lambda t: ["--inputs", str(t / "nope.npy")], ["nope.npy"]),
    (
        "inputs-wrong-shape",
        lambda t: ["--inputs", _npy(t, np.zeros((2, 5, 5, 1), np.int8))],
        ["shape"],
    ),
    (
        "inputs-wrong-dtype",
        lambda t: ["--inputs", _npy(t, np.zeros((2, 28, 28, 1), np.float32))],
        ["int8"],
    ),
    ("inputs-not-npy", lambda t: ["--inputs", _write(t / "x.npy", "hello")], ["x.npy"]),
    ("dump-mode", lambda t: ["--dump", "some"], ["--dump"]),
    ("link-faults-spec", lambda t: ["--link-faults", "drop=lots"], ["drop"]),
    ("link-faults-rate", lambda t: ["--link-faults", "flip=2"], ["flip"]),
    ("link-baud", lambda t: ["--link-baud", "0"], ["--link-baud"]),
]


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("case, args, words", OTHER_CASES, ids=[c[0] for c in OTHER_CASES])
def test_bad_option_or_input(case, args, words, tmp_path, capsys):
    argv = ["--model", "lenet5", *args(tmp_path)]
    code, text = run(argv, tmp_path, capsys)
    assert_clear(code, text, words)
