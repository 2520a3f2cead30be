"""The bad-input cases that need a running device: a port that does not exist
or is busy, and an image built for another model or board (HELLO mismatch)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import serial

from hil.boards import load_board
from hil.cli import main
from hil.deploy import prepare_image
from hil.errors import DeviceError
from hil.model.examples import build_example
from hil.runners import runner_for

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hil-bad-input")


def run(args, build_root, capsys) -> tuple[int, str]:
    code = main(["run", "--vectors", "1", "--build-dir", str(build_root), *args])
    out = capsys.readouterr()
    return code, out.err


def test_port_that_does_not_exist(build_root, capsys):
    code, err = run(["--board", "qemu-m3", "--model", "lenet5", "--port", "/dev/ttyHILNOPE"],
                    build_root, capsys)
    assert code == DeviceError.exit_code and "Traceback" not in err
    assert "/dev/ttyHILNOPE" in err and "hint:" in err


def test_port_that_is_busy(build_root, capsys):
    master, slave = os.openpty()
    name = os.ttyname(slave)
    holder = serial.serial_for_url(name, exclusive=True)   # another program has it
    try:
        code, err = run(["--board", "qemu-m3", "--model", "lenet5", "--port", name],
                        build_root, capsys)
    finally:
        holder.close()
        os.close(master)
        os.close(slave)
    assert code == DeviceError.exit_code
    assert name in err and "busy" in err


@pytest.mark.parametrize("image_board, image_model, run_board, run_model, words", [
    ("qemu-m3", "cifar10", "qemu-m3", "lenet5", ["runs model 'cifar10'", "expected 'lenet5'"]),
    ("qemu-m4", "lenet5", "qemu-m3", "lenet5", ["built for board 'qemu-m4'", "'qemu-m3'"]),
])
def test_image_built_for_another_model_or_board(build_root, tmp_path, capsys, image_board,
                                                image_model, run_board, run_model, words):
    board = load_board(image_board)
    image = prepare_image(board, build_example(image_model), build_root=build_root)
    with runner_for(board, image.elf, tmp_path) as other:
        code, err = run(["--board", run_board, "--model", run_model, "--port", other.url],
                        build_root, capsys)
    assert code == DeviceError.exit_code, err
    for w in words:
        assert w in err
    assert "hil flash" in err   # the hint says how to fix it
