"""Which q7 kernels go into the image: our portable firmware/nn or a genuine CMSIS-NN.

The genuine library is accepted as a CMSIS_5 checkout (<= 5.9.0) or a
standalone CMSIS-NN checkout (<= 3.1.0) plus CMSIS Core include dirs.
CMSIS-NN 4.0 dropped the legacy q7 API; we detect that by its sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from hil.errors import BuildError

# Present in every release with the legacy q7 API, absent from 4.0 on.
LEGACY_MARKER = "arm_convolve_HWC_q7_basic.c"
SUPPORTED = "CMSIS_5 <= 5.9.0 (CMSIS/NN) or standalone CMSIS-NN <= 3.1.0"


@dataclass(frozen=True)
class NnBackend:
    name: str  # "portable" | "cmsis-nn"
    sources: list[Path]
    include_dirs: list[Path]


def portable_backend(firmware: Path) -> NnBackend:
    nn = firmware / "nn"
    return NnBackend("portable", sorted((nn / "src").rglob("*.c")), [nn / "include"])


def genuine_backend(root: Path, core_include: Sequence[Path] | None = None) -> NnBackend:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise BuildError(f"CMSIS-NN directory {root} does not exist",
                         hint=f"point --cmsis-nn / HIL_CMSIS_NN at a checkout of {SUPPORTED}")
    if (root / "CMSIS" / "NN" / "Source").is_dir():
        nn = root / "CMSIS" / "NN"
        core = [root / "CMSIS" / "Core" / "Include", root / "CMSIS" / "DSP" / "Include"]
    elif (root / "Source").is_dir() and (root / "Include").is_dir():
        nn = root
        core = _core_dirs(core_include)
    else:
        raise BuildError(
            f"{root} is neither a CMSIS_5 checkout (CMSIS/NN/Source) nor a CMSIS-NN checkout (Source/, Include/)",
            hint=f"point --cmsis-nn / HIL_CMSIS_NN at the root of {SUPPORTED}",
        )
    sources = sorted((nn / "Source").glob("*/*.c"))
    if not any(s.name == LEGACY_MARKER for s in sources):
        raise BuildError(
            f"the CMSIS-NN at {root} has no legacy q7 API ({LEGACY_MARKER} is missing): CMSIS-NN 4.0 and later removed it",
            hint=f"check out {SUPPORTED}, or leave HIL_CMSIS_NN unset to use hil's portable kernels",
        )
    if not (nn / "Include" / "arm_nnfunctions.h").is_file():
        raise BuildError(f"{nn / 'Include' / 'arm_nnfunctions.h'} is missing", hint="the checkout looks incomplete")
    dirs = [nn / "Include", *(d for d in core if d.is_dir())]
    if not any((d / "cmsis_compiler.h").is_file() for d in dirs):
        raise BuildError(
            f"no CMSIS Core headers (cmsis_compiler.h) for the CMSIS-NN at {root}",
            hint="set HIL_CMSIS_CORE (or --cmsis-core) to CMSIS/Core/Include of a CMSIS_5 checkout",
        )
    return NnBackend("cmsis-nn", sources, dirs)


def _core_dirs(given: Sequence[Path] | None) -> list[Path]:
    """CMSIS Core include dirs for a standalone CMSIS-NN; a CMSIS_5 root is expanded."""
    dirs: list[Path] = []
    for d in map(Path, given or []):
        if (d / "CMSIS" / "Core" / "Include").is_dir():
            dirs += [d / "CMSIS" / "Core" / "Include", d / "CMSIS" / "DSP" / "Include"]
        else:
            dirs.append(d)
    return dirs
