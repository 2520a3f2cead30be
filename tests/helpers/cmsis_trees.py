"""Fake CMSIS-NN library trees made of tiny files: a CMSIS_5 checkout and a standalone
CMSIS-NN, each with the one legacy kernel hil checks for. Shared by
tests/unit/test_build_cmsis_nn.py and tests/firmware/test_build_cmsis_nn_genuine.py."""

from __future__ import annotations

from pathlib import Path

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
