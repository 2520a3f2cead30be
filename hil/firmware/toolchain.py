"""The arm-none-eabi tools the build runs, found once, with clear errors."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hil.errors import BuildError

INSTALL_HINT = (
    "install the cross toolchain: sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi"
)


@dataclass(frozen=True)
class Toolchain:
    gcc: Path
    size: Path
    objcopy: Path
    version: str  # first line of `gcc --version`; part of every cache key


def _which(name: str, prefix: str) -> Path:
    path = shutil.which(prefix + name)
    if path is None:
        raise BuildError(f"{prefix}{name} not found on PATH", hint=INSTALL_HINT)
    return Path(path)


@functools.lru_cache(maxsize=4)
def _find(prefix: str, path_env: str) -> Toolchain:
    gcc = _which("gcc", prefix)
    out = subprocess.run([gcc, "--version"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise BuildError(f"{gcc} --version failed: {out.stderr.strip()}", hint=INSTALL_HINT)
    return Toolchain(
        gcc=gcc,
        size=_which("size", prefix),
        objcopy=_which("objcopy", prefix),
        version=out.stdout.splitlines()[0],
    )


def find_toolchain(prefix: str = "arm-none-eabi-") -> Toolchain:
    """The cross tools on PATH (cached per PATH, so tests can hide them)."""
    return _find(prefix, os.environ.get("PATH", ""))


def section_sizes(tools: Toolchain, elf: Path) -> tuple[int, int, int]:
    """(text, data, bss) in bytes, as `size` reports them (Berkeley format)."""
    out = subprocess.run([tools.size, "-B", elf], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise BuildError(f"cannot read section sizes of {elf}: {out.stderr.strip()}")
    text, data, bss = (int(v) for v in out.stdout.splitlines()[1].split()[:3])
    return text, data, bss
