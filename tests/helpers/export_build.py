"""Export a network, build the module with gcc and run it, for the tests of
exported C modules (tests/firmware/test_export_module.py).

    module = export_module(network, "lenet", tmp / "lenet")
    exe = build_driver(module, "run_net.c", tmp / "build", std="c99", variant="plain")
    y = run_records(exe, ["run", str(len(x))], x, module.network.layers[-1].output_size)

The drivers in tests/firmware/export_c/ speak to one module through
``net_alias.h``, which this module writes: it maps ``net_*`` and ``NET_*`` to the
module's own names, so one driver serves every export.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from hil.cli import main as hil_main
from hil.export.files import Export, build_export, write_export
from hil.model.layer import Network

DRIVERS = Path(__file__).resolve().parents[1] / "firmware" / "export_c"
STRICT = ("-O2", "-Wall", "-Wextra", "-Werror")
SANITIZERS = {
    "address": (
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all",
        "-fno-omit-frame-pointer",
    ),
    "thread": ("-fsanitize=thread",),
}
# The portable kernels' switch between the two pooling paths (arm_nn_math_types.h).
POOL_DEFINES = {"plain": "-DHIL_NN_POOL_PLAIN", "dsp": "-DHIL_NN_POOL_DSP"}
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=86",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=87",
    "TSAN_OPTIONS": "halt_on_error=1:exitcode=88",
}


@dataclass(frozen=True)
class ExportedModule:
    """An export written to ``folder``."""

    export: Export
    folder: Path

    @property
    def name(self) -> str:
        return self.export.name

    @property
    def network(self) -> Network:
        return self.export.network

    @property
    def sources(self) -> list[Path]:
        return [self.folder / p for p in self.export.c_sources]

    @property
    def include_flags(self) -> list[str]:
        return [f"-I{self.folder}", f"-I{self.folder / 'kernels' / 'include'}"]


def export_module(network: Network, name: str, folder: Path) -> ExportedModule:
    """``network`` exported (portable backend) as module ``name`` into ``folder``."""
    export = build_export(network, name, "portable")
    write_export(export, folder)
    return ExportedModule(export, folder)


def alias_header(module: ExportedModule) -> str:
    """net_alias.h: the drivers' net_* / NET_* names for ``module``'s own."""
    name, up = module.name, module.name.upper()
    network = module.network
    quantises = network.quantisation is not None
    dequantises = quantises and network.layers[-1].out_frac_bits is not None
    lines = [f'#include "{name}.h"']
    for what in ("INPUT_SIZE", "OUTPUT_SIZE", "SCRATCH_SIZE", "SCRATCH_ALIGN", "NUM_LAYERS"):
        lines.append(f"#define NET_{what} {up}_{what}")
    for what in ("OK", "LAYER_BEGIN", "LAYER_END"):
        lines.append(f"#define NET_{what} {up}_{what}")
    for fn in ("run", "run_traced", "quantize_input", "dequantize_output"):
        lines.append(f"#define net_{fn} {name}_{fn}")
    lines.append(f"#define NET_HAS_QUANTISATION {int(quantises)}")
    lines.append(f"#define NET_HAS_DEQUANTIZE {int(dequantises)}")
    return "\n".join(lines) + "\n"


def gcc(args: Sequence[str | Path], cwd: Path | None = None) -> None:
    """Run the host gcc; a failure shows the compiler's own messages."""
    result = subprocess.run(
        ["gcc", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"gcc {' '.join(map(str, args))}\n{result.stderr}"


def build_driver(
    module: ExportedModule,
    driver: str,
    out_dir: Path,
    *,
    std: str = "c11",
    variant: str = "plain",
    sanitizer: str = "address",
) -> Path:
    """The module, its kernels and ``driver`` (a file in export_c/) as one executable."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "net_alias.h").write_text(alias_header(module))
    exe = out_dir / Path(driver).stem
    gcc(
        [
            f"-std={std}",
            *STRICT,
            *SANITIZERS[sanitizer],
            POOL_DEFINES[variant],
            "-pthread",
            f"-I{out_dir}",
            *module.include_flags,
            *module.sources,
            DRIVERS / driver,
            "-lm",
            "-o",
            exe,
        ]
    )
    return exe


def run_program(
    exe: Path, args: Sequence[str], stdin: bytes = b"", cwd: Path | None = None
) -> bytes:
    """stdout of ``exe``; a non-zero exit (a sanitizer report, a refused run) fails."""
    env = dict(os.environ, **SANITIZER_ENV)
    result = subprocess.run(
        [str(exe), *args], input=stdin, capture_output=True, env=env, cwd=cwd, check=False
    )
    assert result.returncode == 0, (
        f"{exe.name} {' '.join(args)} exited with {result.returncode}\n"
        + result.stderr.decode(errors="replace")
    )
    return result.stdout


def run_records(exe: Path, args: Sequence[str], x: np.ndarray, record: int) -> np.ndarray:
    """``x`` (one input per row) through ``exe``; its stdout as int8 rows of ``record``."""
    out = run_program(exe, args, np.ascontiguousarray(x).tobytes())
    rows = np.frombuffer(out, dtype=np.int8)
    assert rows.size == len(x) * record, f"{exe.name} wrote {rows.size} bytes"
    return rows.reshape(len(x), record)


def split_layers(rows: np.ndarray, network: Network) -> list[np.ndarray]:
    """Per-input records of every layer's output, back into one array per layer."""
    sizes = [layer.output_size for layer in network.layers]
    assert rows.shape[1] == sum(sizes)
    return np.split(rows, np.cumsum(sizes)[:-1], axis=1)


def hil_infer(
    model: str | Path, inputs: Path, out_dir: Path, variant: str, *, layers: bool = False
) -> np.ndarray | dict[str, np.ndarray]:
    """What `hil infer` writes for ``inputs`` (a .npy file): the last layer's rows,
    or with ``layers`` every layer by name, in the order of the .npz."""
    out = out_dir / f"infer-{variant}{'-layers.npz' if layers else '.npy'}"
    args = ["infer", "-m", str(model), "--inputs", str(inputs), "--output", str(out)]
    code = hil_main(args + ["--variant", variant] + (["--layers"] if layers else []))
    assert code == 0, f"hil {' '.join(args)} exited with {code}"
    if not layers:
        return np.load(out)
    with np.load(out) as z:
        return {key: z[key] for key in z.files}
