"""An installed hil needs no checkout: the wheel alone carries the board files
and the firmware sources (hil/_data/), and so does the sdist it can be built
from. The wheel goes into a fresh venv outside the repository, which borrows
the project venv's dependencies through a path line in a .pth file (no
network, and not the editable hil: .pth files inside that folder are not run).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ("boards", "firmware")
# What a clean clone would not have: the build writes build/ and *.egg-info
# next to its sources, so it runs on a copy and the checkout is left alone.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "out"
)


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{cmd}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _checkout_files() -> set[str]:
    """boards/ and firmware/ as the repository has them, relative to its root."""
    return {
        p.relative_to(REPO).as_posix()
        for name in SHIPPED
        for p in (REPO / name).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> tuple[Path, Path]:
    """(sdist, wheel) of the working tree."""
    tmp = tmp_path_factory.mktemp("dists")
    src, out = tmp / "src", tmp / "dist"
    shutil.copytree(REPO, src, ignore=NOT_IN_A_CLONE)
    _run([sys.executable, "-m", "build", "--sdist", "--outdir", out, src])
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, src])
    (sdist,), (wheel,) = out.glob("*.tar.gz"), out.glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, dists):
    """A venv holding only the wheel's hil; the cwd and environment of a user
    with no checkout (no HIL_* settings pointing back at the repository)."""
    tmp = tmp_path_factory.mktemp("fresh")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", dists[1]])
    site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
    )
    (site / "hil-test-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HIL_") and k not in ("PYTHONPATH", "PYTHONHOME")
    }
    env["HIL_CACHE_DIR"] = str(tmp / "object-cache")
    cwd = tmp / "elsewhere"
    cwd.mkdir()
    return {"venv": venv, "site": site, "env": env, "cwd": cwd, "tmp": tmp}


def _hil(fresh, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(fresh["venv"] / "bin" / "hil"), *args],
        capture_output=True,
        text=True,
        cwd=fresh["cwd"],
        env=fresh["env"],
    )


def _installed_files(site: Path) -> set[Path]:
    return {p for p in (site / "hil").rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_the_sdist_and_the_wheel_carry_boards_and_firmware(dists):
    sdist, wheel = dists
    want = _checkout_files()
    assert any(f.startswith("boards/") and f.endswith(".toml") for f in want)
    assert any(f.startswith("firmware/nn/src/") and f.endswith(".c") for f in want)
    with tarfile.open(sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert want <= in_sdist, sorted(want - in_sdist)[:10]
    assert {"setup.py", "MANIFEST.in", "pyproject.toml"} <= in_sdist
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = {
            name.removeprefix("hil/_data/")
            for name in whl.namelist()
            if name.startswith("hil/_data/")
        }
    assert in_wheel == want, (sorted(want - in_wheel)[:10], sorted(in_wheel - want)[:10])


def test_the_fresh_venv_imports_its_own_copy(fresh):
    code = (
        "import hil; from hil.config.boards import boards_dir; from hil.datadirs import firmware_root; "
        "print(hil.__file__); print(boards_dir()); print(firmware_root())"
    )
    result = subprocess.run(
        [str(fresh["venv"] / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        cwd=fresh["cwd"],
        env=fresh["env"],
    )
    assert result.returncode == 0, result.stderr
    module, boards, firmware = (Path(line) for line in result.stdout.splitlines())
    assert module == fresh["site"] / "hil" / "__init__.py"
    assert boards == fresh["site"] / "hil" / "_data" / "boards"
    assert firmware == fresh["site"] / "hil" / "_data" / "firmware"


def test_hil_boards_lists_the_shipped_boards(fresh):
    result = _hil(fresh, "boards")
    assert result.returncode == 0, result.stdout + result.stderr
    for board in sorted(p.stem for p in (REPO / "boards").glob("*.toml")):
        assert board in result.stdout
    assert "qemu-m7" in result.stdout


@pytest.mark.needs_arm_gcc
@pytest.mark.needs_qemu
def test_hil_run_builds_and_passes_from_the_wheel(fresh):
    before = _installed_files(fresh["site"])
    build_dir = fresh["tmp"] / "build"
    result = _hil(fresh, "run", "-n", "1", "--build-dir", str(build_dir))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "cifar10 on qemu-m7" in out
    assert re.search(r"^PASS: .*\b11 layer results matched, 0 mismatched", out, re.M), out[-2000:]
    assert list(build_dir.rglob("firmware.elf")), "the image is built under --build-dir"
    assert _installed_files(fresh["site"]) == before, "nothing is written into site-packages"
