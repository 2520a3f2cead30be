"""firmware/nn on emulated Cortex-M cores against every golden vector.

The host tests model the SIMD intrinsics in C; this runs the real SMLAD /
SXTB16 code (Cortex-M7, DSP pooling path) and the plain-C build a
Cortex-M3 gets by default (plain pooling path) under qemu-system-arm.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.reference.spec import VARIANT_DEPENDENT  # noqa: E402

from helpers import nnlib, qemu_check

pytestmark = pytest.mark.qemu


def _cases(root: Path, variant: str) -> list[Path]:
    paths = sorted((root / "cmsis-nn-q7").glob("*/*.npz"))
    if variant == "plain":
        paths = [p for p in paths if p.parent.name not in VARIANT_DEPENDENT]
        paths += sorted((root / "cmsis-nn-q7-plain").glob("*/*.npz"))
    return paths


@pytest.mark.needs_arm_gcc
@pytest.mark.needs_qemu
@pytest.mark.parametrize("core,variant", [("cortex-m7", "dsp"), ("cortex-m3", "plain")])
def test_kernels_on_emulated_core_match_golden_vectors(tmp_path, core, variant):
    root = nnlib.conformance_root()
    if root is None:
        pytest.skip("golden vectors (../shared/conformance) not present")
    paths = _cases(root, variant)
    assert len(paths) > 700
    failures = qemu_check.run_cases(paths, core=core, work_dir=tmp_path)
    assert not failures, "\n".join(f"{c}: {'; '.join(p)}" for c, p in list(failures.items())[:20])
