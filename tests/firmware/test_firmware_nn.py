"""firmware/nn kernels, built for the host, against every golden vector.

Each function's cases run through ctypes with guard zones and two buffer
fills (tests/helpers/nnlib.py): output, status, in-place results, what the
DSP pooling path leaves in Im_in, and the absence of stray writes are all
checked.
"""

from __future__ import annotations

from pathlib import Path

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
