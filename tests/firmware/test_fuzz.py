"""The firmware's frame parser and dispatcher under libFuzzer with ASan/UBSan.

A short session runs in every test run; longer ones: scripts/fuzz_frames.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from hil.protocol import generated as g
from hil.protocol.link import Link
from hil.protocol.messages import unpack

from helpers import hostfw

REPO = Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location("fuzz_frames", REPO / "scripts" / "fuzz_frames.py")
fuzz_frames = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_frames"] = fuzz_frames  # dataclasses look their module up there
_spec.loader.exec_module(fuzz_frames)

FUZZ_SECONDS = 10


@pytest.fixture(scope="module")
def target(tmp_path_factory, require_tool) -> Path:
    require_tool("clang")
    return fuzz_frames.build(tmp_path_factory.mktemp("fuzz"))


def test_seed_corpus_is_the_generated_one():
    want = fuzz_frames.seed_frames()
    have = {p.name: p.read_bytes() for p in fuzz_frames.SEEDS.iterdir()}
    assert have == want, "run: python scripts/fuzz_frames.py --write-seeds"


def test_seed_corpus_replays_clean(target):
    result = subprocess.run(
        [str(target), "-runs=0", str(fuzz_frames.SEEDS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow  # over 5 s
def test_short_fuzz_session_finds_nothing(target, tmp_path):
    res = fuzz_frames.run(target, FUZZ_SECONDS, tmp_path)
    assert res.executions > 1000, res.output[-3000:]
    assert res.crashes == 0, res.output[-4000:]


@pytest.mark.needs_gcc
def test_every_seed_call_runs_in_the_fuzz_arena(tmp_path):
    """The call seeds are well formed and fit the target's small kernel arena,
    so fuzzing starts from calls the checks let through to the kernels."""
    exe = hostfw.build_host_firmware(
        fuzz_frames.fuzz_network(),
        tmp_path,
        defines=[f"HIL_KERNEL_ARENA_BYTES={fuzz_frames.KERNEL_ARENA_BYTES}"],
    )
    with hostfw.HostDevice(exe) as dev:
        link = Link.open(dev.url, timeout=10, log_path=dev.log_path)
        try:
            for function, params in fuzz_frames.SEED_CALLS.items():
                (setup_type, setup), (run_type, run) = fuzz_frames.kernel_requests(function, params)
                link.request(setup_type, setup, expect={g.MSG_ACK}, retries=0)
                done = link.request(run_type, run, expect={g.MSG_KERNEL_DONE}, retries=0)
                assert unpack("kernel_done", done.payload)[0]["status"] == 0, function
        finally:
            link.close()
