"""`hil conformance --random` and `--generate` on emulated boards: drawn cases through
the firmware's kernels, a deliberately wrong kernel caught and its cases saved and
replayed, and a set written from a Cortex-M3 that the host reference then passes."""

from __future__ import annotations

import re

import pytest

import hil.device.connect
from hil import __version__
from hil.cli import main
from hil.reference.spec import KERNEL_SPECS
from hil.validate.random_cases import generate_set, select_functions

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]
ARENA = 64 * 1024  # what the emulated boards' HELLO announces


@pytest.fixture(scope="module")
def build_root(tmp_path_factory):
    return tmp_path_factory.mktemp("hil-build")


def _summary(printed: str) -> tuple[int, int]:
    match = re.search(r"^(\d+) passed, (\d+) failed$", printed, re.MULTILINE)
    assert match, printed
    return int(match.group(1)), int(match.group(2))


def test_random_cases_pass_on_qemu_m7_for_every_function(build_root, capsys):
    code = main(
        ["conformance", "--random", "20", "--seed", "4", "--board", "qemu-m7"]
        + ["--build-dir", str(build_root)]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    drawn = generate_set(select_functions(), 20, 4, ARENA)
    assert _summary(printed) == (sum(len(c) for c in drawn.values()), 0)
    assert printed.rstrip().splitlines()[-1].endswith(" passed, 0 failed")
    assert all(f in printed for f in KERNEL_SPECS)
    assert "20 random + edge cases per function, seed 4" in " ".join(printed.split())
    assert not (build_root / "conformance-failures").exists()


def test_a_wrong_kernel_is_caught_and_its_cases_saved_and_replayed(tmp_path, capsys, monkeypatch):
    real = hil.device.connect.prepare_image
    monkeypatch.setattr(
        hil.device.connect,
        "prepare_image",
        lambda *a, **k: real(*a, **{**k, "defines": {"HIL_TEST_WRONG_ROUNDING": "1"}}),
    )
    wrong_build = tmp_path / "build"
    saved = tmp_path / "failures"
    functions = ["arm_convolve_HWC_q7_basic", "arm_fully_connected_q7", "arm_relu_q7"]
    code = main(
        ["conformance", "--random", "4", "--board", "qemu-m7", "--save-failures", str(saved)]
        + [a for f in functions for a in ("--function", f)]
        + ["--build-dir", str(wrong_build)]
    )
    captured = capsys.readouterr()
    assert code == 5, captured.out
    passed, failed = _summary(captured.out)
    assert failed > 0
    files = sorted(saved.rglob("*.npz"))
    assert len(files) == failed
    # Only requantising kernels round; ReLU stays right.
    assert {p.parent.name for p in files} <= set(functions[:2])
    flat_out, flat_err = " ".join(captured.out.split()), " ".join(captured.err.split())
    assert f"{failed} failing cases saved in {saved}" in flat_out
    assert f"hil conformance {saved} --board qemu-m7" in flat_err
    readme = (saved / "README.md").read_text()
    assert "qemu-m7" in readme and "| seed | 0 |" in readme and __version__ in readme

    # Replayed on the same wrong image, every saved case fails again...
    code = main(["conformance", str(saved), "--board", "qemu-m7", "--build-dir", str(wrong_build)])
    assert code == 5
    assert _summary(capsys.readouterr().out) == (0, failed)
    # ...and the host reference computes exactly what the files expect.
    assert main(["conformance", str(saved)]) == 0
    assert _summary(capsys.readouterr().out) == (failed, 0)


def test_generate_on_qemu_m3_writes_a_set_the_plain_reference_passes(build_root, tmp_path, capsys):
    golden = tmp_path / "m3-set"
    code = main(
        ["conformance", "--generate", str(golden), "--board", "qemu-m3", "--random", "5"]
        + ["--seed", "8", "--build-dir", str(build_root)]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    drawn = generate_set(select_functions(), 5, 8, ARENA)
    total = sum(len(c) for c in drawn.values())
    assert f"wrote {total} cases of 15 functions to {golden}" in " ".join(printed.split())
    assert len(list(golden.rglob("*.npz"))) == total
    readme = (golden / "README.md").read_text()
    for fact in ("| board | qemu-m3 |", "| kernels (backend) | portable |", "| seed | 8 |"):
        assert fact in readme
    assert f"| hil version | {__version__} |" in readme and "plain" in readme

    assert main(["conformance", str(golden), "--variant", "plain"]) == 0
    assert _summary(capsys.readouterr().out) == (total, 0)
    # The plain path's pooling is not the SIMD one: the dsp reference must disagree.
    assert main(["conformance", str(golden), "--variant", "dsp"]) == 5
    assert _summary(capsys.readouterr().out)[1] > 0
