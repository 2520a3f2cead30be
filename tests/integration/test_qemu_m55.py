"""qemu-m55 (QEMU mps3-an547, Cortex-M55): the default model through `hil run`,
bit-exact on the SIMD path, with the same instruction counts on every run.

The port counts with the SSE-300 system counter on the 32 MHz SYSCLK, so one
tick is 31.25 ns and, at icount shift 7, 31.25 / 128 instructions. Every run
here really launches qemu-system-arm.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.cli import main

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]
BOARD = "qemu-m55"


def _run(build_root: Path, log: Path, *extra: str) -> tuple[dict, dict[tuple[int, int], int]]:
    """One `hil run` of the default model: its run record and the count of every
    (vector, layer)."""
    code = main(
        ["run", "--board", BOARD, "--build-dir", str(build_root), "--log", str(log), *extra]
    )
    assert code == 0, f"hil run --board {BOARD} did not pass; log: {log}"
    run, counts = {}, {}
    for line in log.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("record") == "run":
            run = rec
        elif rec.get("record") == "layer":
            counts[(rec["vector"], rec["layer"])] = round(
                rec["ticks"] * run["count_source"]["scale"]
            )
    return run, counts


def test_default_model_passes_bit_exactly_with_repeatable_counts(tmp_path, capsys):
    build_root = tmp_path / "build"
    first_run, first = _run(build_root, tmp_path / "first.jsonl", "--dump", "all")
    second_run, second = _run(build_root, tmp_path / "second.jsonl")
    printed = capsys.readouterr().out
    assert "PASS:" in printed and "reference variant dsp" in printed
    for run in (first_run, second_run):
        assert run["count_source"] == {
            "name": "qemu-icount",
            "unit": "instructions",
            "scale": 31.25 / 128,
        }
        assert run["model"] == "cifar10"  # the default model
        device = run["device"]
        assert (device["core"], device["variant"]) == ("cortex-m55", "dsp")
        assert (device["cycle_source"], device["cycle_hz"]) == ("timer", 32_000_000)
    assert first and all(c > 0 for c in first.values())
    assert first == second
