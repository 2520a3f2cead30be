"""An export as files: generated in memory, hashed, then written to its folder.

The export hash is the sha256 of SHA256SUMS, which lists every other file's
sha256 in ``sha256sum`` format, so a user can check a folder with the usual
tool and compare it with what a board reports in its HELLO.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hil import __version__
from hil.errors import ConfigError
from hil.export import s8_module
from hil.export.buildfiles import render_cmake, render_makefile, render_readme
from hil.export.kernels import KERNELS_DIR, portable_kernel_files
from hil.export.module import ModuleLayout, render_header, render_source, render_weights
from hil.export.names import check_name
from hil.export.s8_plan import plan_s8
from hil.model.hashing import model_hash
from hil.model.layer import Network
from hil.model.s8 import S8Network

BACKENDS = ("portable", "cmsis-nn")
SUMS = "SHA256SUMS"
MANIFEST = "hil-export.json"
HASH_BYTES = 8  # what the firmware's HELLO carries


@dataclass(frozen=True)
class Export:
    """The files of one export, by path relative to its folder."""

    name: str
    backend: str
    network: Network | S8Network
    files: dict[str, bytes]
    sizes: dict[str, int]  # bytes of the input, output, scratch and weights

    @property
    def sums(self) -> bytes:
        return self.files[SUMS]

    @property
    def hash(self) -> str:
        """sha256 of SHA256SUMS, hex."""
        return hashlib.sha256(self.sums).hexdigest()

    @property
    def c_sources(self) -> list[str]:
        return sorted(p for p in self.files if p.endswith(".c"))

    @property
    def kernel_sources(self) -> list[str]:
        return [p for p in self.c_sources if p.startswith(KERNELS_DIR + "/")]

    @property
    def module_sources(self) -> list[str]:
        return [f"{self.name}.c", f"{self.name}_weights.c"]


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ConfigError(
            f"--backend {backend!r} is not a backend",
            hint="use --backend portable (hil's kernels, copied in) or --backend cmsis-nn "
            "(your CMSIS-NN)",
        )
    return backend


def build_export(network: Network | S8Network, name: str, backend: str = "portable") -> Export:
    """Every file of ``network`` exported as module ``name``, in memory."""
    check_name(name)
    check_backend(backend)
    if isinstance(network, S8Network):
        return _build_s8_export(network, name, backend)
    files: dict[str, bytes] = {
        f"{name}.h": render_header(name, network, backend).encode(),
        f"{name}.c": render_source(name, network).encode(),
        f"{name}_weights.c": render_weights(name, network).encode(),
    }
    kernels: dict[str, bytes] = {}
    if backend == "portable":
        kernels = _portable_kernels([layer.function for layer in network.layers], "q7")
    files.update(kernels)
    layout = ModuleLayout.of(network)
    weights = sum(
        int(a.size)
        for layer in network.layers
        for a in (layer.weights, layer.bias)
        if a is not None
    )
    sizes = {
        "input": network.input_size,
        "output": network.layers[-1].output_size,
        "scratch": layout.scratch_size,
        "weights": weights,
    }
    files["CMakeLists.txt"] = render_cmake(name, kernels, backend).encode()
    files[f"{name}.mk"] = render_makefile(name, kernels, backend).encode()
    files["README.md"] = render_readme(name, network.name, backend, sizes).encode()
    return _finish(name, backend, network, files, sizes, {})


def _portable_kernels(functions: list[str], family: str) -> dict[str, bytes]:
    chosen = portable_kernel_files(functions, family)
    kernels: dict[str, bytes] = {}
    for path in chosen.headers:
        where = "include" if path.parent.name == "include" else "src"
        kernels[f"{KERNELS_DIR}/{where}/{path.name}"] = path.read_bytes()
    for path in chosen.sources:
        kernels[f"{KERNELS_DIR}/src/{path.name}"] = path.read_bytes()
    return kernels


def _build_s8_export(network: S8Network, name: str, backend: str) -> Export:
    files: dict[str, bytes] = {
        f"{name}.h": s8_module.render_header(name, network, backend).encode(),
        f"{name}.c": s8_module.render_source(name, network, backend).encode(),
        f"{name}_weights.c": s8_module.render_weights(name, network).encode(),
    }
    kernels: dict[str, bytes] = {}
    if backend == "portable":
        kernels = _portable_kernels([layer.function for layer in network.layers], "s8")
    files.update(kernels)
    sizes = {
        "input": network.input_size,
        "output": network.layers[-1].output_size,
        "scratch": plan_s8(network).scratch_size,
        "weights": s8_module.weight_bytes(network),
    }
    files["CMakeLists.txt"] = render_cmake(name, kernels, backend, "s8").encode()
    files[f"{name}.mk"] = render_makefile(name, kernels, backend, "s8").encode()
    files["README.md"] = render_readme(name, network.name, backend, sizes, "s8").encode()
    return _finish(name, backend, network, files, sizes, {"family": "s8"})


def _finish(
    name: str,
    backend: str,
    network: Network | S8Network,
    files: dict[str, bytes],
    sizes: dict[str, int],
    extra: dict[str, str],
) -> Export:
    """``files`` with SHA256SUMS and the manifest (``extra`` added to it) added."""
    sums = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items())
    )
    files[SUMS] = sums.encode()
    export_hash = hashlib.sha256(files[SUMS]).hexdigest()
    manifest = {
        "name": name,
        **extra,
        "model": network.name,
        "model_hash": model_hash(network).hex(),
        "backend": backend,
        "hil_version": __version__,
        "export_hash": export_hash,
        "sizes": sizes,
        "files": sorted(p for p in files if p != SUMS),
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2) + "\n").encode()
    return Export(name, backend, network, files, sizes)


def previous_files(out_dir: Path) -> list[str] | None:
    """The files an earlier export wrote into ``out_dir``, from its manifest."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text())
        return [str(p) for p in data["files"]] + [SUMS, MANIFEST]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_file(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically (a temporary file in its folder, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_if_changed(path: Path, data: bytes) -> None:
    """write_file, unless ``path`` already holds ``data``: build caches keyed on file
    times stay warm."""
    if not (path.is_file() and path.read_bytes() == data):
        write_file(path, data)


def write_export(export: Export, out_dir: Path) -> None:
    """Write every file; remove what an earlier export there wrote and this one does not.

    Files are replaced atomically one by one, and equal files are left untouched."""
    earlier = previous_files(out_dir) or []
    for relpath, data in sorted(export.files.items()):
        write_if_changed(out_dir / relpath, data)
    for stale in set(earlier) - set(export.files):
        target = out_dir / stale
        if target.is_file() and out_dir.resolve() in target.resolve().parents:
            target.unlink()


def read_export(folder: Path, network: Network | S8Network, option: str = "--export") -> Export:
    """The export in ``folder``, checked: every file as SHA256SUMS lists it, and an
    export of ``network``. Any edit or a different model is one ConfigError."""
    shown = f"{option} {folder}"
    if not folder.is_dir():
        raise ConfigError(
            f"{shown} is not a folder",
            hint="give --export the folder `hil export --out` wrote",
        )
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        name, backend = str(manifest["name"]), str(manifest["backend"])
        sums = (folder / SUMS).read_bytes()
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f"{shown} has no readable {MANIFEST} and {SUMS}: it is not a hil export",
            hint="give --export the folder `hil export --out` wrote",
        ) from None
    files: dict[str, bytes] = {}
    for line in sums.decode(errors="replace").splitlines():
        digest, _, relpath = line.partition("  ")
        path = folder / relpath
        data = path.read_bytes() if path.is_file() else None
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            raise ConfigError(
                f"{shown}: {relpath} {'is missing' if data is None else 'was changed'} since "
                f"it was exported ({SUMS} says so)",
                hint="export the model again (hil export --force) rather than editing the folder",
            )
        files[relpath] = data
    want = model_hash(network).hex()
    if manifest.get("model_hash") != want:
        raise ConfigError(
            f"{shown} is an export of model {manifest.get('model')!r} "
            f"({str(manifest.get('model_hash'))[:16]}), not of {network.name} ({want[:16]})",
            hint="pass the --model the folder was exported from, or export this model",
        )
    check_backend(backend)
    files[SUMS] = sums
    files[MANIFEST] = (folder / MANIFEST).read_bytes()
    sizes = {str(k): int(v) for k, v in dict(manifest.get("sizes", {})).items()}
    return Export(name, backend, network, files, sizes)
