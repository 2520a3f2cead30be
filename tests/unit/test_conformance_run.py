"""hil.validate.conformance and `hil conformance`: discovery, reporting, failure detection."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from rich.console import Console

import hil.reference.softmax as softmax_module
from hil.cli import main
from hil.errors import ConfigError
from hil.reference import PLANNERS, call_kernel
from hil.report.conformance_table import render_conformance
from hil.validate.conformance import KernelResult, run_conformance


def test_cli_main_set_passes(vectors_dir, capsys):
    assert main(["conformance", str(vectors_dir)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1] == "709 passed, 0 failed"
    assert "arm_convolve_HWC_q7_fast_nonsquare" in out


def test_cli_plain_set_passes(plain_vectors_dir, capsys):
    assert main(["conformance", str(plain_vectors_dir), "--variant", "plain"]) == 0
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == "96 passed, 0 failed"


def test_cli_fails_when_variant_is_wrong(plain_vectors_dir, capsys):
    code = main(
        [
            "conformance",
            str(plain_vectors_dir),
            "--variant",
            "dsp",
            "--function",
            "arm_maxpool_q7_HWC",
        ]
    )
    captured = capsys.readouterr()
    assert code == 5
    assert captured.out.rstrip().splitlines()[-1] == "40 passed, 8 failed"
    assert "8 of 48 conformance cases failed" in " ".join(captured.err.split())


def test_cli_missing_folder_is_a_config_error(tmp_path, capsys):
    assert main(["conformance", str(tmp_path / "nope")]) == 2
    assert "does not exist" in " ".join(capsys.readouterr().err.split())
    assert main(["conformance", str(tmp_path)]) == 2
    assert "no golden vectors" in " ".join(capsys.readouterr().err.split())


def test_cli_unknown_variant_is_a_config_error(vectors_dir, capsys):
    assert main(["conformance", str(vectors_dir), "--variant", "neon"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "unknown reference variant 'neon'" in err and "dsp, plain" in err


def _wrong_rounding_plan(params, weights=None, bias=None, variant="dsp"):
    right = softmax_module.plan_softmax(params)

    def run(x):
        y = right(x).astype(np.int16)
        return np.clip(y + (y > 0), -128, 127).astype(np.int8)  # rounds up: off by one

    return run


def test_a_wrong_kernel_is_caught(vectors_dir, monkeypatch):
    monkeypatch.setitem(PLANNERS, "arm_softmax_q7", _wrong_rounding_plan)
    report = run_conformance(vectors_dir, function="arm_softmax_q7")
    (fn,) = report.functions
    assert fn.failed > 0 and not report.ok
    first = fn.first_failure
    assert first.kind == "mismatch" and first.got == first.expected + 1
    assert first.case_id in first.describe()


def test_wrong_rounding_in_requantisation_is_caught(vectors_dir, monkeypatch):
    import hil.reference._core as core
    import hil.reference.convolution as conv

    def half_away(acc, out_shift):  # round half away from zero instead of half up
        r = (1 << out_shift) >> 1
        q = (np.abs(acc - r) + r) >> out_shift
        return np.clip(np.where(acc - r < 0, -q, q), -128, 127).astype(np.int8)

    monkeypatch.setattr(conv, "requantise", half_away)
    report = run_conformance(vectors_dir, function="arm_convolve_HWC_q7_basic")
    assert report.failed > 0
    assert core.requantise is not half_away


def test_one_function_folder_and_unknown_folders(vectors_dir, tmp_path):
    src = vectors_dir / "arm_relu_q7"
    report = run_conformance(src)
    assert [f.function for f in report.functions] == ["arm_relu_q7"] and report.ok
    shutil.copytree(src, tmp_path / "arm_relu_q7")
    shutil.copytree(src, tmp_path / "arm_relu_q15")
    report = run_conformance(tmp_path)
    unknown = next(f for f in report.functions if f.function == "arm_relu_q15")
    assert not unknown.known and unknown.failed == len(unknown.cases) > 0
    assert unknown.first_failure.kind == "unknown function"
    assert report.failed == unknown.failed and not report.ok
    with pytest.raises(ConfigError, match="arm_softmax_q7"):
        run_conformance(tmp_path, function="arm_softmax_q7")


def test_lone_folder_named_otherwise_uses_the_stored_function(vectors_dir, tmp_path):
    shutil.copytree(vectors_dir / "arm_softmax_q7", tmp_path / "my_cases")
    report = run_conformance(tmp_path / "my_cases", function="arm_softmax_q7")
    assert [f.function for f in report.functions] == ["arm_softmax_q7"] and report.ok


def test_case_file_in_the_wrong_folder(vectors_dir, tmp_path):
    (tmp_path / "arm_relu_q7").mkdir()
    case = next((vectors_dir / "arm_softmax_q7").glob("*.npz"))
    shutil.copy(case, tmp_path / "arm_relu_q7" / case.name)
    (result,) = run_conformance(tmp_path).functions
    assert result.first_failure.kind == "error"
    assert "arm_softmax_q7" in result.first_failure.message


def test_unreadable_case_file_fails_that_case(tmp_path):
    (tmp_path / "arm_relu_q7").mkdir()
    (tmp_path / "arm_relu_q7" / "000_broken.npz").write_bytes(b"not a zip")
    (result,) = run_conformance(tmp_path).functions
    assert result.failed == 1 and "not a readable .npz" in result.first_failure.message


def test_pluggable_runner_with_ticks(vectors_dir):
    seen = []

    def runner(function, kwargs):
        seen.append(function)
        return KernelResult(call_kernel(function, "dsp", **kwargs), ticks=1000 + len(seen))

    report = run_conformance(vectors_dir, function="arm_relu_q7", kernel_runner=runner)
    assert report.ok and len(seen) == report.passed
    assert report.functions[0].median_ticks is not None
    console = Console(record=True, width=200)
    render_conformance(report, console)
    text = console.export_text()
    assert "median ticks" in text and text.rstrip().endswith(f"{report.passed} passed, 0 failed")


def test_runner_with_wrong_output_size(vectors_dir):
    report = run_conformance(
        vectors_dir, function="arm_relu_q7", kernel_runner=lambda fn, kw: np.zeros(0, np.int8)
    )
    assert report.passed == 0 and report.functions[0].first_failure.kind == "size"


def test_render_without_ticks_has_no_ticks_column(vectors_dir):
    report = run_conformance(vectors_dir, function="arm_relu_q7")
    console = Console(record=True, width=200)
    render_conformance(report, console)
    assert "median ticks" not in console.export_text()
