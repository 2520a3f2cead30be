"""Which q7 kernels go into the image: our portable firmware/nn or a genuine CMSIS-NN.

The genuine library is accepted as a CMSIS_5 checkout (<= 5.9.0) or a
standalone CMSIS-NN checkout plus CMSIS Core include dirs. The standalone
repository has no release with the legacy q7 API: its history has it up to
commit cc3e92d (30 September 2022), the next commit removed it, and v4.0.0
is its first tag. We detect the API by its sources.

A path that is not such a checkout is bad input (ConfigError), found before
any build work starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from hil.errors import ConfigError

# Present in every release with the legacy q7 API, absent from CMSIS-NN 4.0 on.
LEGACY_MARKER = "arm_convolve_HWC_q7_basic.c"
SUPPORTED = (
    "a CMSIS_5 checkout up to tag 5.9.0, or a standalone CMSIS-NN checkout at "
    "commit cc3e92d (September 2022) or older"
)


@dataclass(frozen=True)
class NnBackend:
    name: str  # "portable" | "cmsis-nn"
    sources: list[Path]
    include_dirs: list[Path]


def portable_backend(firmware: Path) -> NnBackend:
    nn = firmware / "nn"
    return NnBackend("portable", sorted((nn / "src").rglob("*.c")), [nn / "include"])


def core_include_from_env() -> list[Path] | None:
    """$HIL_CMSIS_CORE: CMSIS Core include dirs for a standalone CMSIS-NN."""
    value = os.environ.get("HIL_CMSIS_CORE")
    return [Path(p) for p in value.split(os.pathsep) if p] if value else None


def _is_cmsis5(path: Path) -> bool:
    return (path / "CMSIS" / "NN" / "Source").is_dir()


def _is_standalone(path: Path) -> bool:
    return (path / "Source").is_dir() and (path / "Include").is_dir()


def _checkout_near(path: Path) -> Path | None:
    """A checkout root just above or just below ``path``, for hints."""
    for up in list(path.parents)[:4]:
        if _is_cmsis5(up):
            return up
    if path.is_dir():
        for child in sorted(path.iterdir()):
            if child.is_dir() and (_is_cmsis5(child) or _is_standalone(child)):
                return child
    return None


def _cmsis5_around(nn: Path) -> Path | None:
    """The CMSIS_5 root when ``nn`` is its CMSIS/NN folder."""
    root = nn.parent.parent
    if nn.name == "NN" and nn.parent.name == "CMSIS" and _is_cmsis5(root):
        return root
    return None


def _use_root_hint(root: Path | None) -> str:
    if root is not None:
        return f"use --cmsis-nn {root} (the checkout root)"
    return f"point --cmsis-nn / HIL_CMSIS_NN at the root folder of {SUPPORTED}"


def genuine_backend(root: Path, core_include: Sequence[Path] | None = None) -> NnBackend:
    root = Path(root).expanduser()
    if not root.exists():
        raise ConfigError(
            f"CMSIS-NN checkout {root} does not exist", hint=_use_root_hint(_checkout_near(root))
        )
    if not root.is_dir():
        raise ConfigError(
            f"CMSIS-NN checkout {root} is a file, not a folder",
            hint=_use_root_hint(_checkout_near(root)),
        )
    if _is_cmsis5(root):
        nn = root / "CMSIS" / "NN"
        core = [root / "CMSIS" / "Core" / "Include", root / "CMSIS" / "DSP" / "Include"]
    elif _is_standalone(root):
        nn = root
        core = _core_dirs(core_include)
        cmsis5 = _cmsis5_around(root)
        if cmsis5 is not None and not core:
            raise ConfigError(
                f"{root} is the CMSIS/NN folder inside the CMSIS_5 checkout "
                f"{cmsis5}, not a checkout root",
                hint=_use_root_hint(cmsis5),
            )
    else:
        raise ConfigError(
            f"{root} is neither a CMSIS_5 checkout (CMSIS/NN/Source) nor a CMSIS-NN checkout "
            "(Source/, Include/)",
            hint=_use_root_hint(_checkout_near(root)),
        )
    sources = sorted((nn / "Source").glob("*/*.c"))
    if not any(s.name == LEGACY_MARKER for s in sources):
        raise ConfigError(
            f"the CMSIS-NN at {root} has no legacy q7 API ({LEGACY_MARKER} is missing): "
            "CMSIS-NN 4.0 and later removed it",
            hint=f"check out {SUPPORTED}, or leave --cmsis-nn / HIL_CMSIS_NN unset to use "
            "hil's portable kernels",
        )
    if not (nn / "Include" / "arm_nnfunctions.h").is_file():
        raise ConfigError(
            f"{nn / 'Include' / 'arm_nnfunctions.h'} is missing",
            hint="the checkout looks incomplete; check it out again",
        )
    dirs = [nn / "Include", *(d for d in core if d.is_dir())]
    if not any((d / "cmsis_compiler.h").is_file() for d in dirs):
        raise ConfigError(
            f"no CMSIS Core headers (cmsis_compiler.h) for the CMSIS-NN at {root}",
            hint="set HIL_CMSIS_CORE to the CMSIS/Core/Include folder of a CMSIS_5 checkout "
            "(or to that checkout's root)",
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


# The s8 family: CMSIS-NN 4.0 and later (arm_cmsis_nn_status; no q7 functions).
S8_MARKER = "arm_convolve_wrapper_s8.c"
S8_STATUS = "arm_cmsis_nn_status"
S8_SUPPORTED = "a standalone CMSIS-NN checkout, v4.0.0 or later (Source/, Include/)"


def portable_s8_backend(firmware: Path) -> NnBackend:
    nn = firmware / "nn" / "s8"
    return NnBackend("portable", sorted((nn / "src").glob("*.c")), [nn / "include"])


def genuine_s8_backend(root: Path, core_include: Sequence[Path] | None = None) -> NnBackend:
    """A user's CMSIS-NN >= 4.0: every Source/*/*.c, its Include, and CMSIS Core
    include dirs when its arm_nn_math_types.h includes cmsis_compiler.h."""
    root = Path(root).expanduser()
    hint = f"point --cmsis-nn / HIL_CMSIS_NN at {S8_SUPPORTED}"
    if not root.is_dir():
        raise ConfigError(f"CMSIS-NN checkout {root} is not a folder", hint=hint)
    if _is_cmsis5(root) or not _is_standalone(root):
        raise ConfigError(
            f"{root} is not a CMSIS-NN (>= 4.0) checkout with Source/ and Include/: the s8 "
            "family needs the int8 API of CMSIS-NN 4.0 or later",
            hint=hint,
        )
    # The float kernels newer releases carry (*_f16.c, *_f32.c) are not the int8 API,
    # and _f16 needs a compiler with float16_t for the core: they are left out.
    sources = [
        p for p in sorted((root / "Source").glob("*/*.c")) if not p.stem.endswith(("_f16", "_f32"))
    ]
    names = {s.name for s in sources}
    types = root / "Include" / "arm_nn_types.h"
    if LEGACY_MARKER in names or S8_MARKER not in names or not types.is_file():
        raise ConfigError(
            f"the CMSIS-NN at {root} is older than 4.0 (legacy q7 API, or no {S8_MARKER})",
            hint=f"check out {S8_SUPPORTED}, or build the q7 family (--family q7) against it",
        )
    if S8_STATUS not in types.read_text(errors="replace"):
        raise ConfigError(
            f"{types} has no {S8_STATUS}: the CMSIS-NN at {root} is older than 4.0",
            hint=f"check out {S8_SUPPORTED}",
        )
    dirs = [root / "Include", *(d for d in _core_dirs(core_include) if d.is_dir())]
    math_types = root / "Include" / "arm_nn_math_types.h"
    needs_core = math_types.is_file() and "cmsis_compiler.h" in math_types.read_text(
        errors="replace"
    )
    if needs_core and not any((d / "cmsis_compiler.h").is_file() for d in dirs):
        raise ConfigError(
            f"the CMSIS-NN at {root} includes cmsis_compiler.h, and no CMSIS Core include dir "
            "has it",
            hint="set HIL_CMSIS_CORE to a CMSIS Core include folder (or a CMSIS_5 checkout)",
        )
    return NnBackend("cmsis-nn", sources, dirs)
