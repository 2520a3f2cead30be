"""Emulated counts repeat exactly whatever the host does meanwhile.

With digests (``--dump mismatch``/``digest``) or several devices the host sends
the next vector's input while the device still computes; the bytes arrive
during a timed kernel call. The per-vector, per-layer instruction counts must
still be the ones ``--dump all`` gives, so a baseline saved in one mode gates
another exactly. Every run here really launches qemu-system-arm.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.cli import main

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]

VECTORS = 4  # enough that later vectors' inputs go out while earlier ones run
RUNS = {
    "dump all": ["--dump", "all"],
    "dump mismatch": ["--dump", "mismatch"],
    "dump digest": ["--dump", "digest"],
    "2 devices": ["--devices", "2"],
}


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hil-build")


def _counts(log: Path) -> dict[tuple[int, int], int]:
    """Instruction count of every (vector, layer) in a run's --log file."""
    scale, counts = None, {}
    for line in log.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("record") == "run":
            assert rec["count_source"]["name"] == "qemu-icount"
            scale = rec["count_source"]["scale"]
        elif rec.get("record") == "layer":
            counts[(rec["vector"], rec["layer"])] = round(rec["ticks"] * scale)
    return counts


@pytest.mark.parametrize("board", ("qemu-m7", "qemu-m3", "qemu-m55"))
def test_counts_are_identical_across_dump_modes_and_devices(board, build_root, tmp_path, capsys):
    counts = {}
    for name, extra in RUNS.items():
        log = tmp_path / f"{name.replace(' ', '-')}.jsonl"
        code = main(
            [
                "run",
                "--board",
                board,
                "--model",
                "lenet5",
                "--vectors",
                str(VECTORS),
                "--build-dir",
                str(build_root),
                "--log",
                str(log),
                *extra,
            ]
        )
        assert code == 0, capsys.readouterr().out
        counts[name] = _counts(log)
    reference = counts["dump all"]
    assert len(reference) == VECTORS * len({layer for _, layer in reference})
    assert all(c > 0 for c in reference.values())
    for name, got in counts.items():
        differ = {
            k: (reference.get(k), got.get(k))
            for k in reference.keys() | got.keys()
            if reference.get(k) != got.get(k)
        }
        assert not differ, f"{board} {name} vs dump all, (vector, layer): (all, {name}) {differ}"
