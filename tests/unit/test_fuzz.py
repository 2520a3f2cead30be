"""The firmware's frame parser and dispatcher under libFuzzer with ASan/UBSan.

A short session runs in every test run; longer ones: scripts/fuzz_frames.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("fuzz_frames", REPO / "scripts" / "fuzz_frames.py")
fuzz_frames = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_frames"] = fuzz_frames   # dataclasses look their module up there
_spec.loader.exec_module(fuzz_frames)

pytestmark = pytest.mark.skipif(not fuzz_frames.have_libfuzzer(), reason="clang not installed")
FUZZ_SECONDS = 10


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Path:
    return fuzz_frames.build(tmp_path_factory.mktemp("fuzz"))


def test_seed_corpus_is_the_generated_one():
    want = fuzz_frames.seed_frames()
    have = {p.name: p.read_bytes() for p in fuzz_frames.SEEDS.iterdir()}
    assert have == want, "run: python scripts/fuzz_frames.py --write-seeds"


def test_seed_corpus_replays_clean(target):
    result = subprocess.run([str(target), "-runs=0", str(fuzz_frames.SEEDS)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def test_short_fuzz_session_finds_nothing(target, tmp_path):
    res = fuzz_frames.run(target, FUZZ_SECONDS, tmp_path)
    assert res.executions > 1000, res.output[-3000:]
    assert res.crashes == 0, res.output[-4000:]
