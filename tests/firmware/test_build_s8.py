"""The s8 family's firmware build: the int8 kernels and firmware/src/s8 in place of the
q7 calls, the core's ARM_MATH_* defines, a genuine-layout CMSIS-NN (>= 4.0) tree through
--cmsis-nn, and family-keyed image folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hil.config.boards import load_board
from hil.datadirs import firmware_root
from hil.device.connect import kernel_image_dir
from hil.errors import BuildError, ConfigError
from hil.firmware.build import build_firmware, s8_defines
from hil.firmware.nn_backend import genuine_s8_backend

pytestmark = [pytest.mark.needs_arm_gcc]


def _genuine_layout(root: Path) -> Path:
    """firmware/nn/s8 laid out as a CMSIS-NN >= 4.0 checkout (Source/<Family>/, Include/)."""
    s8 = firmware_root() / "nn" / "s8"
    shutil.copytree(s8 / "include", root / "Include")
    shutil.copytree(s8 / "src", root / "Source" / "AllFunctions")
    return root


def test_the_core_decides_the_kernel_path_defines():
    assert "ARM_MATH_DSP" not in s8_defines(load_board("qemu-m3"))
    assert s8_defines(load_board("qemu-m7"))["ARM_MATH_DSP"] == "1"
    assert "ARM_MATH_MVEI" not in s8_defines(load_board("qemu-m7"))
    m55 = s8_defines(load_board("qemu-m55"), "single")
    assert m55["ARM_MATH_MVEI"] == m55["ARM_MATH_DSP"] == "1"
    assert m55["CMSIS_NN_USE_SINGLE_ROUNDING"] == "1"


@pytest.mark.parametrize("board", ["qemu-m3", "qemu-m55"])
def test_an_s8_image_links_without_the_q7_calls(tmp_path, board):
    image = build_firmware(load_board(board), None, tmp_path, family="s8", cache_dir=tmp_path / "c")
    assert (image.family, image.rounding, image.backend) == ("s8", "double", "portable")
    linked = (tmp_path / "firmware.map").read_text()
    assert "kcall_s8.o" in linked and "arm_convolve_wrapper_s8" in linked
    assert "arm_convolve_HWC_q7_basic" not in linked and "kcheck.o" not in linked


def test_a_genuine_layout_tree_builds_through_cmsis_nn(tmp_path):
    tree = _genuine_layout(tmp_path / "CMSIS-NN")
    image = build_firmware(
        load_board("qemu-m7"), None, tmp_path / "out", family="s8", cmsis_nn=tree,
        cache_dir=tmp_path / "c",
    )  # fmt: skip
    assert image.backend == "cmsis-nn"
    assert genuine_s8_backend(tree).include_dirs == [tree / "Include"]


def test_an_older_library_is_refused_for_s8(tmp_path):
    tree = _genuine_layout(tmp_path / "old")
    (tree / "Source" / "AllFunctions" / "arm_convolve_HWC_q7_basic.c").write_text("\n")
    with pytest.raises(ConfigError, match="older than 4.0"):
        genuine_s8_backend(tree)
    with pytest.raises(ConfigError, match="not a CMSIS-NN"):
        genuine_s8_backend(firmware_root())


def test_an_unknown_family_is_refused_and_families_have_their_own_folders(tmp_path):
    board = load_board("qemu-m7")
    with pytest.raises(BuildError, match="unknown kernel family"):
        build_firmware(board, None, tmp_path, family="s16")
    dirs = {kernel_image_dir(tmp_path, board, f, r, None) for f in ("q7", "s8")
            for r in ("double", "single")}  # fmt: skip
    assert len(dirs) == 4


def test_the_float_kernels_of_a_newer_library_are_left_out(tmp_path):
    tree = _genuine_layout(tmp_path / "CMSIS-NN")
    basic = tree / "Source" / "BasicMathFunctions"
    basic.mkdir()
    (basic / "arm_elementwise_add_f16.c").write_text("float16_t does_not_compile;\n")
    (basic / "arm_elementwise_add_s8.c").write_text("int hil_probe_s8;\n")
    names = {p.name for p in genuine_s8_backend(tree).sources}
    assert "arm_elementwise_add_s8.c" in names and "arm_elementwise_add_f16.c" not in names
