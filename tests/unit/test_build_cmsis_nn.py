"""The genuine CMSIS-NN seam, with fake library trees made of tiny files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.config.boards import load_board
from hil.errors import ConfigError
from hil.firmware.build import build_firmware
from hil.firmware.nn_backend import genuine_backend, portable_backend

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "fixtures" / "firmware"

LEGACY_SOURCE = (
    '#include "arm_nnfunctions.h"\nint arm_convolve_HWC_q7_basic(int x) { return x + 1; }\n'
)
# The real header pulls in the Core headers too; the fake does the same so a
# missing include dir fails the build.
NN_HEADER = '#include "cmsis_compiler.h"\nint arm_convolve_HWC_q7_basic(int x);\n'


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def cmsis5(root: Path, legacy: bool = True) -> Path:
    files = {
        "CMSIS/NN/Include/arm_nnfunctions.h": NN_HEADER,
        "CMSIS/NN/Source/ActivationFunctions/arm_relu_q7.c": "void arm_relu_q7(void) {}\n",
        "CMSIS/Core/Include/cmsis_compiler.h": "#define HIL_FAKE_CORE 1\n",
        "CMSIS/DSP/Include/arm_math_types.h": "\n",
    }
    if legacy:
        files["CMSIS/NN/Source/ConvolutionFunctions/arm_convolve_HWC_q7_basic.c"] = LEGACY_SOURCE
    return make_tree(root, files)


def standalone(root: Path) -> Path:
    return make_tree(
        root,
        {
            "Include/arm_nnfunctions.h": NN_HEADER,
            "Source/ConvolutionFunctions/arm_convolve_HWC_q7_basic.c": LEGACY_SOURCE,
        },
    )


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


needs_arm_gcc = pytest.mark.needs_arm_gcc


def generated_caller(tmp_path: Path) -> Path:
    """Model sources that only link when the genuine library was compiled in."""
    return make_tree(
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
