"""The genuine CMSIS-NN seam, with fake library trees made of tiny files. Building
against them: tests/firmware/test_build_cmsis_nn_genuine.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.firmware.nn_backend import genuine_backend, portable_backend

from helpers.cmsis_trees import cmsis5, make_tree, standalone


def test_cmsis5_layout(tmp_path: Path) -> None:
    backend = genuine_backend(cmsis5(tmp_path))
    assert backend.name == "cmsis-nn"
    assert [s.name for s in backend.sources] == ["arm_relu_q7.c", "arm_convolve_HWC_q7_basic.c"]
    assert [d.relative_to(tmp_path).as_posix() for d in backend.include_dirs] == [
        "CMSIS/NN/Include",
        "CMSIS/Core/Include",
        "CMSIS/DSP/Include",
    ]


def test_cmsis_nn_4_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        genuine_backend(cmsis5(tmp_path, legacy=False))
    assert "arm_convolve_HWC_q7_basic.c is missing" in err.value.message
    assert "4.0" in err.value.message and "5.9.0" in err.value.hint


def test_standalone_needs_core_headers(tmp_path: Path) -> None:
    nn = standalone(tmp_path / "nn")
    with pytest.raises(ConfigError, match="no CMSIS Core headers") as err:
        genuine_backend(nn)
    assert "HIL_CMSIS_CORE" in err.value.hint
    core = cmsis5(tmp_path / "cmsis5")
    by_root = genuine_backend(nn, [core])
    by_dir = genuine_backend(nn, [core / "CMSIS" / "Core" / "Include"])
    assert core / "CMSIS" / "Core" / "Include" in by_root.include_dirs
    assert by_dir.include_dirs == [nn / "Include", core / "CMSIS" / "Core" / "Include"]


def test_not_a_checkout(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neither a CMSIS_5 checkout"):
        genuine_backend(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        genuine_backend(tmp_path / "absent")


def test_missing_nnfunctions_header(tmp_path: Path) -> None:
    root = cmsis5(tmp_path)
    (root / "CMSIS/NN/Include/arm_nnfunctions.h").unlink()
    with pytest.raises(ConfigError, match="arm_nnfunctions.h is missing"):
        genuine_backend(root)


def test_portable_backend_uses_firmware_nn(tmp_path: Path) -> None:
    make_tree(
        tmp_path, {"nn/src/conv/a.c": "", "nn/src/b.c": "", "nn/include/arm_nnfunctions.h": ""}
    )
    backend = portable_backend(tmp_path)
    assert backend.name == "portable"
    assert [s.name for s in backend.sources] == ["b.c", "a.c"]
    assert backend.include_dirs == [tmp_path / "nn" / "include"]
