"""`hil conformance --random N --family s8` on emulated boards: drawn int8 cases through
the s8 image's kernels (DSP path on the M7, plain C on the M3, Helium on the M55),
judged against hil.reference.s8; a wrong expectation is reported naming the
function and the case's parameters; an image of the other family is refused.

30 cases per function and board (210 per board, 630 in all, ~10 s a board);
each board draws its own seed."""

from __future__ import annotations

import re

import pytest

import hil.validate.s8_conformance
from hil.cli import main
from hil.config.boards import load_board
from hil.device.connect import open_device, prepare_image
from hil.errors import DeviceError
from hil.kernels.s8 import S8_FUNCTIONS
from hil.model.examples import build_example

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]
PER_FUNCTION = 30


@pytest.fixture(scope="module")
def build_root(tmp_path_factory):
    return tmp_path_factory.mktemp("hil-build-s8")


def _summary(printed: str) -> tuple[int, int]:
    match = re.search(r"^(\d+) passed, (\d+) failed$", printed, re.MULTILINE)
    assert match, printed
    return int(match.group(1)), int(match.group(2))


@pytest.mark.parametrize(("board", "seed"), [("qemu-m7", 1), ("qemu-m3", 2), ("qemu-m55", 3)])
def test_random_s8_cases_pass(build_root, capsys, board, seed):
    code = main(
        ["conformance", "--random", str(PER_FUNCTION), "--family", "s8", "--seed", str(seed)]
        + ["--board", board, "--build-dir", str(build_root)]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert _summary(printed) == (PER_FUNCTION * len(S8_FUNCTIONS), 0)
    assert all(f in printed for f in S8_FUNCTIONS)
    assert "double rounding" in " ".join(printed.split())


def test_single_rounding_image(build_root, capsys):
    code = main(
        ["conformance", "--random", "5", "--family", "s8", "--rounding", "single"]
        + ["--board", "qemu-m7", "--build-dir", str(build_root)]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "single rounding" in " ".join(printed.split())


def test_a_wrong_expectation_fails_naming_the_function(build_root, capsys, monkeypatch):
    real = hil.validate.s8_conformance.reference_s8_output

    def wrong(case, rounding):
        out = real(case, rounding)
        if case.function == "arm_fully_connected_s8":
            out = out.copy()
            out[0] = out[0] ^ 1
        return out

    monkeypatch.setattr(hil.validate.s8_conformance, "reference_s8_output", wrong)
    code = main(
        ["conformance", "--random", "3", "--family", "s8", "--board", "qemu-m7"]
        + ["--function", "arm_fully_connected_s8", "--function", "arm_max_pool_s8"]
        + ["--build-dir", str(build_root)]
    )
    printed = " ".join(capsys.readouterr().out.split())
    assert code == 5, printed
    assert "3 passed, 3 failed" in printed
    assert "FAILED arm_fully_connected_s8 arm_fully_connected_s8-s0-0000 [0]" in printed
    assert "parameters: input_n=" in printed
    assert "FAILED arm_max_pool_s8" not in printed


def test_an_image_of_the_other_family_is_refused(build_root):
    board = load_board("qemu-m7")
    image = prepare_image(board, build_example("lenet5"), build_root=build_root)
    with open_device(board, image, log_dir=build_root / "logs") as dev:
        assert dev.info.family == "q7"
        with pytest.raises(DeviceError, match="holds the q7 kernel family, not s8"):
            dev.session.check_kernel_image("s8", board.id, "flash the s8 image")
