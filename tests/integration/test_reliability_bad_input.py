"""The bad-input cases that need a running device: a port that does not exist
or is busy, and an image built for another model or board (HELLO mismatch)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import serial

from hil.cli import main
from hil.config.boards import load_board
from hil.device.connect import prepare_image
from hil.errors import DeviceError
from hil.model.examples import build_example
from hil.runners import runner_for

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hil-bad-input")


def run(args, build_root, capsys) -> tuple[int, str]:
    code = main(["run", "--vectors", "1", "--build-dir", str(build_root), *args])
    out = capsys.readouterr()
    return code, out.err


def test_port_that_does_not_exist(build_root, capsys):
    code, err = run(
        ["--board", "qemu-m3", "--model", "lenet5", "--port", "/dev/ttyHILNOPE"], build_root, capsys
    )
    assert code == DeviceError.exit_code and "Traceback" not in err
    assert "/dev/ttyHILNOPE" in err and "hint:" in err


def test_port_that_is_busy(build_root, capsys):
    master, slave = os.openpty()
    name = os.ttyname(slave)
    holder = serial.serial_for_url(name, exclusive=True)  # another program has it
    try:
        code, err = run(
            ["--board", "qemu-m3", "--model", "lenet5", "--port", name], build_root, capsys
        )
    finally:
        holder.close()
        os.close(master)
        os.close(slave)
    assert code == DeviceError.exit_code
    assert name in err and "busy" in err


@pytest.mark.parametrize(
    "image_board, image_model, run_board, run_model, words",
    [
        ("qemu-m3", "cifar10", "qemu-m3", "lenet5", ["runs model 'cifar10'", "expected 'lenet5'"]),
        ("qemu-m4", "lenet5", "qemu-m3", "lenet5", ["built for board 'qemu-m4'", "'qemu-m3'"]),
    ],
)
def test_image_built_for_another_model_or_board(
    build_root, tmp_path, capsys, image_board, image_model, run_board, run_model, words
):
    board = load_board(image_board)
    image = prepare_image(board, build_example(image_model), build_root=build_root)
    with runner_for(board, image.elf, tmp_path) as other:
        code, err = run(
            ["--board", run_board, "--model", run_model, "--port", other.url], build_root, capsys
        )
    assert code == DeviceError.exit_code, err
    for w in words:
        assert w in err
    assert "hil flash" in err  # the hint says how to fix it


def test_kernel_call_outside_its_limits_is_refused_by_the_arm_firmware(build_root, tmp_path):
    """kcheck.c as compiled for the board: the device refuses, names the parameter,
    and keeps serving (the next, valid call runs)."""
    from hil.device.connect import open_device
    from hil.errors import KernelRefused

    board = load_board("qemu-m7")
    image = prepare_image(board, build_example("lenet5"), build_root=build_root)
    scalars = dict(
        dim_im_in=5,
        ch_im_in=4,
        ch_im_out=2,
        dim_kernel=3,
        padding=1,
        stride=1,
        bias_shift=0,
        out_shift=7,
        dim_im_out=5,
    )
    arrays = {
        "Im_in": np.ones(5 * 5 * 4, np.int8),
        "wt": np.ones(2 * 4 * 9, np.int8),
        "bias": np.zeros(2, np.int8),
    }
    with open_device(board, image, log_dir=tmp_path) as dev:
        with pytest.raises(KernelRefused) as err:
            dev.session.run_kernel(
                "arm_convolve_HWC_q7_fast",
                {**scalars, "ch_im_in": 3},
                {**arrays, "Im_in": np.ones(75, np.int8), "wt": np.ones(54, np.int8)},
            )
        assert err.value.what == "ch_im_in"
        ok = dev.session.run_kernel("arm_convolve_HWC_q7_fast", scalars, arrays)
    assert ok.status == 0 and ok.output.shape == (5 * 5 * 2,)
