"""firmware/nn kernels, built for the host, against every golden vector.

Each function's cases run through ctypes with guard zones and two buffer
fills (tests/helpers/nnlib.py): output, status, in-place results, what the
DSP pooling path leaves in Im_in, and the absence of stray writes are all
checked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hil.reference.spec import KERNEL_SPECS, VARIANT_DEPENDENT  # noqa: E402

from helpers import nnlib

FUNCTIONS = sorted(KERNEL_SPECS)


@pytest.fixture(scope="module")
def golden() -> Path:
    root = nnlib.conformance_root()
    if root is None:
        pytest.skip("golden vectors (../shared/conformance) not present")
    return root


@pytest.fixture(scope="module")
def libs(tmp_path_factory, require_tool) -> dict[str, nnlib.NNLib]:
    require_tool("gcc")
    out = tmp_path_factory.mktemp("nn_host")
    return {
        "dsp": nnlib.NNLib(nnlib.build_library(out, pool="dsp")),
        "plain": nnlib.NNLib(nnlib.build_library(out, pool="plain")),
        # the Cortex-M4/M7 SMLAD inner loops, on C models of the intrinsics
        "simd": nnlib.NNLib(
            nnlib.build_library(out, pool="dsp", simd_model=True, name="libhilnn_simd.so")
        ),
    }


def _assert_folder_passes(lib: nnlib.NNLib, folder: Path) -> None:
    cases = sorted(folder.glob("*.npz"))
    assert cases, f"no golden vectors in {folder}"
    failures = nnlib.check_folder(lib, folder)
    assert not failures, "\n".join(f"{c}: {'; '.join(p)}" for c, p in failures.items())


@pytest.mark.parametrize("build", ["dsp", "simd"])
@pytest.mark.parametrize("function", FUNCTIONS)
def test_dsp_build_matches_golden_vectors(libs, golden, build, function):
    _assert_folder_passes(libs[build], golden / "cmsis-nn-q7" / function)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_plain_build_matches_golden_vectors(libs, golden, function):
    folder = "cmsis-nn-q7-plain" if function in VARIANT_DEPENDENT else "cmsis-nn-q7"
    _assert_folder_passes(libs["plain"], golden / folder / function)


@pytest.mark.parametrize("function", sorted(VARIANT_DEPENDENT))
def test_pooling_paths_really_differ(libs, golden, function):
    # Guards against both builds silently compiling the same pooling path.
    folder = golden / "cmsis-nn-q7-plain" / function
    assert nnlib.check_folder(libs["dsp"], folder, check_work_area=False)


@pytest.mark.parametrize("build", ["plain", "dsp", "simd"])
@pytest.mark.parametrize("function", ["arm_fully_connected_q7", "arm_fully_connected_q7_opt"])
@pytest.mark.parametrize("rows", [4, 5])
@pytest.mark.parametrize("data", ["all -128", "random"])
def test_long_fully_connected_rows_stay_exact(libs, build, function, rows, data):
    """The SIMD fully-connected kernels fold their partial sums back every 127 groups
    of four columns (past 508 columns) to stay inside int32; no golden vector is that
    long. All -128 is the largest product sum the header allows."""
    from hil.reference import call_kernel

    dim = 1020
    rng = np.random.default_rng(rows)
    if data == "all -128":
        vec = np.full(dim, -128, np.int8)
        weights = np.full(dim * rows, -128, np.int8)
    else:
        vec = rng.integers(-128, 128, dim, dtype=np.int8)
        weights = rng.integers(-128, 128, dim * rows, dtype=np.int8)
    bias = rng.integers(-128, 128, rows, dtype=np.int8)
    scalars = {"dim_vec": dim, "num_of_rows": rows, "bias_shift": 0, "out_shift": 20}
    arrays = {"pV": vec, "pM": weights, "bias": bias}
    result = libs[build].call(function, arrays, scalars)
    assert result.status == 0
    variant = "plain" if build == "plain" else "dsp"
    want = call_kernel(function, variant, **arrays, **scalars)
    np.testing.assert_array_equal(result.buffers["pOut"].body, want.reshape(-1))
    assert all(buf.guards_intact() for buf in result.buffers.values())
