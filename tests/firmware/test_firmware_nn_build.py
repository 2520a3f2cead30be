"""firmware/nn: builds for every core, generated tables, error statuses,
the test-only wrong-rounding build and a sanitizer run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hil.reference.spec import KERNEL_SPECS  # noqa: E402

from helpers import nnlib

REQUANTISING = sorted(n for n, s in KERNEL_SPECS.items() if s.returns_status)
CORES = {"cortex-m7": 1, "cortex-m4": 1, "cortex-m3": 0}  # -> HIL_NN_POOL_SEPARABLE
SIZE_MISMATCH = -3


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory, require_tool) -> Path:
    require_tool("gcc")
    return tmp_path_factory.mktemp("nn_build")


@pytest.fixture(scope="module")
def lib(out_dir) -> nnlib.NNLib:
    return nnlib.NNLib(nnlib.build_library(out_dir, pool="dsp"))


@pytest.fixture(scope="module")
def golden() -> Path:
    root = nnlib.conformance_root()
    if root is None:
        pytest.skip("golden vectors (../shared/conformance) not present")
    return root / "cmsis-nn-q7"


def test_activation_tables_are_up_to_date():
    script = nnlib.REPO / "scripts" / "gen_activation_tables.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.needs_arm_gcc
@pytest.mark.parametrize("core", sorted(CORES))
def test_sources_compile_warning_free_for_cortex_m(tmp_path, core):
    # The probe also pins which pooling path each core gets by default.
    probe = tmp_path / "probe.c"
    probe.write_text(
        '#include "arm_nnfunctions.h"\n'
        f"#if HIL_NN_POOL_SEPARABLE != {CORES[core]}\n#error wrong pooling path\n#endif\n"
        "int hil_nn_probe;\n"
    )
    cmd = [
        "arm-none-eabi-gcc",
        f"-mcpu={core}",
        "-mthumb",
        "-O2",
        "-std=c99",
        "-Wall",
        "-Wextra",
        "-Werror",
        f"-I{nnlib.INCLUDE_DIR}",
        "-c",
        str(probe),
        *map(str, nnlib.sources()),
    ]
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("*.o"))) == len(nnlib.sources()) + 1


def test_wrong_rounding_build_is_caught(out_dir, golden):
    wrong = nnlib.NNLib(
        nnlib.build_library(
            out_dir, pool="dsp", name="libwrong.so", defines=["HIL_TEST_WRONG_ROUNDING"]
        )
    )
    for name in sorted(KERNEL_SPECS):
        failures = nnlib.check_folder(wrong, golden / name)
        if name in REQUANTISING:
            assert failures, f"{name}: truncating build passed every vector"
        else:
            assert not failures, f"{name} does not requantise but failed: {failures}"


def test_sanitized_build_passes_every_vector(out_dir, golden):
    preload = nnlib.sanitizer_runtime()
    # Debian's gcc brings them (libasan8, libubsan1): missing means a broken install.
    assert preload, "gcc -print-file-name finds no libasan.so/libubsan.so"
    path = nnlib.build_library(
        out_dir, pool="dsp", name="libasan.so", extra_flags=nnlib.SANITIZE_FLAGS
    )
    result = nnlib.run_isolated(path, sorted(golden.iterdir()), preload=preload)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "0 failing case(s)" in result.stdout


def _conv_args(name: str, **overrides: int):
    """A small valid call of a convolution, with ``overrides`` applied."""
    square = "dim_im_in" in KERNEL_SPECS[name].args
    p = dict(ch_im_in=4, ch_im_out=4, bias_shift=0, out_shift=7)
    if square:
        p.update(dim_im_in=5, dim_kernel=3, padding=1, stride=1, dim_im_out=5)
    else:
        p.update(
            dim_im_in_x=5,
            dim_im_in_y=4,
            dim_kernel_x=3,
            dim_kernel_y=3,
            padding_x=1,
            padding_y=1,
            stride_x=1,
            stride_y=1,
            dim_im_out_x=5,
            dim_im_out_y=4,
        )
        if "1x1" in name:
            p.update(dim_kernel_x=1, dim_kernel_y=1, padding_x=0, padding_y=0)
    p.update(overrides)
    spec = KERNEL_SPECS[name]
    rng = np.random.default_rng(7)
    arrays = {
        "Im_in": rng.integers(-128, 128, spec.input_size(p), dtype=np.int8),
        "wt": rng.integers(-128, 128, spec.weights_size(p), dtype=np.int8),
        "bias": rng.integers(-128, 128, spec.bias_size(p), dtype=np.int8),
    }
    return arrays, p


@pytest.mark.parametrize(
    "name,overrides",
    [
        ("arm_convolve_HWC_q7_fast", {"ch_im_in": 3}),
        ("arm_convolve_HWC_q7_fast", {"ch_im_out": 3}),
        ("arm_convolve_HWC_q7_fast_nonsquare", {"ch_im_in": 6}),
        ("arm_convolve_HWC_q7_fast_nonsquare", {"ch_im_out": 5}),
        ("arm_convolve_HWC_q7_RGB", {"ch_im_in": 4}),
        ("arm_convolve_1x1_HWC_q7_fast_nonsquare", {"dim_kernel_x": 3}),
        ("arm_convolve_1x1_HWC_q7_fast_nonsquare", {"dim_kernel_y": 2}),
        ("arm_convolve_1x1_HWC_q7_fast_nonsquare", {"padding_x": 1}),
        ("arm_convolve_1x1_HWC_q7_fast_nonsquare", {"padding_y": 1}),
        ("arm_convolve_1x1_HWC_q7_fast_nonsquare", {"stride_x": 2}),
        ("arm_convolve_1x1_HWC_q7_fast_nonsquare", {"stride_y": 2}),
        ("arm_convolve_1x1_HWC_q7_fast_nonsquare", {"ch_im_in": 2}),
        ("arm_depthwise_separable_conv_HWC_q7", {"ch_im_out": 8}),
        ("arm_depthwise_separable_conv_HWC_q7_nonsquare", {"ch_im_out": 2}),
    ],
)
def test_constraint_violation_returns_size_mismatch_and_writes_nothing(lib, name, overrides):
    arrays, p = _conv_args(name, **overrides)
    result = lib.call(name, arrays, p)
    assert result.status == SIZE_MISMATCH
    for key, buf in result.buffers.items():
        if key in arrays:
            assert np.array_equal(buf.body, arrays[key]), key
        else:
            assert (buf.raw == buf.fill).all(), f"{key} was written"


@pytest.mark.parametrize("name", [n for n in REQUANTISING if "fully" not in n])
def test_valid_call_of_each_convolution_succeeds(lib, name):
    # Counterpart of the mismatch test: the same base arguments are accepted.
    arrays, p = _conv_args(name, **({"ch_im_in": 3} if "RGB" in name else {}))
    assert lib.call(name, arrays, p).status == 0


def test_softmax_works_in_place(lib, golden):
    cases = sorted((golden / "arm_softmax_q7").glob("*.npz"))
    assert cases
    for path in cases:
        case = np.load(path)
        result = lib.call(
            "arm_softmax_q7",
            {"vec_in": case["vec_in"]},
            {"dim_vec": int(case["dim_vec"])},
            out_array="vec_in",
        )
        buf = result.buffers["vec_in"]
        assert np.array_equal(buf.body, case["p_out"]), path.name
        assert buf.guards_intact()
