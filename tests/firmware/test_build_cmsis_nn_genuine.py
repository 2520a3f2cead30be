"""Cross builds (arm-none-eabi-gcc) against a genuine-layout CMSIS-NN tree: the fake
trees of tests/helpers/cmsis_trees.py, given by option or by environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.config.boards import load_board
from hil.firmware.build import build_firmware
from hil.firmware.codegen import ModelSources

from helpers.cmsis_trees import cmsis5, make_tree, standalone

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "fixtures" / "firmware"

needs_arm_gcc = pytest.mark.needs_arm_gcc


def generated_caller(tmp_path: Path) -> ModelSources:
    """Model sources that only link when the genuine library was compiled in."""
    gen = make_tree(
        tmp_path / "gen",
        {
            "model_data.c": (
                '#include "arm_nnfunctions.h"\n'
                "#ifndef HIL_NN_BACKEND_CMSIS_NN\n#error the build must flag the genuine backend\n#endif\n"
                "#ifndef HIL_FAKE_CORE\n#error the Core include dir is missing\n#endif\n"
                "__attribute__((used)) int hil_fake_call(int x) { return arm_convolve_HWC_q7_basic(x); }\n"
            )
        },
    )
    return ModelSources(sources=(gen / "model_data.c",), include_dirs=(gen,))


@needs_arm_gcc
def test_build_against_a_genuine_tree(tmp_path: Path) -> None:
    image = build_firmware(
        load_board("qemu-m4"),
        generated_caller(tmp_path),
        tmp_path / "out",
        app_dir=APP,
        cmsis_nn=cmsis5(tmp_path / "cmsis"),
        cache_dir=tmp_path / "cache",
    )
    assert image.backend == "cmsis-nn" and image.elf.is_file()


@needs_arm_gcc
def test_genuine_tree_from_environment(tmp_path: Path, monkeypatch) -> None:
    core = cmsis5(tmp_path / "cmsis5")
    monkeypatch.setenv("HIL_CMSIS_NN", str(standalone(tmp_path / "nn")))
    monkeypatch.setenv("HIL_CMSIS_CORE", str(core / "CMSIS" / "Core" / "Include"))
    image = build_firmware(
        load_board("qemu-m3"),
        generated_caller(tmp_path),
        tmp_path / "out",
        app_dir=APP,
        cache_dir=tmp_path / "cache",
    )
    assert image.backend == "cmsis-nn"
