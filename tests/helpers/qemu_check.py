"""Run golden-vector cases through firmware/nn on an emulated Cortex-M.

The host build cannot execute the real SMLAD/SXTB16 instructions; this
does. It writes a C program holding the chosen cases (in a temporary
directory, never in the project), builds it with arm-none-eabi-gcc and the
minimal startup in tests/helpers/nn_qemu/, runs it under qemu-system-arm with
semihosting and compares what it prints with the vectors:

    failures = run_cases(cases, core="cortex-m7", work_dir=tmp)

Each output line is ``C<index> <status> <output hex> [<Im_in hex>]``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from hil.reference.spec import KERNEL_SPECS

from helpers import nnlib

QEMU_DIR = Path(__file__).resolve().parent / "nn_qemu"
MACHINES = {"cortex-m7": "mps2-an500", "cortex-m4": "mps2-an386", "cortex-m3": "mps2-an385"}


def _c_bytes(a: np.ndarray) -> str:
    return ",".join(str(int(v)) for v in np.asarray(a).reshape(-1))


def _case_block(i: int, case: Mapping[str, np.ndarray]) -> tuple[str, str, int]:
    """(declarations, call-and-print code, scratch bytes) for one case."""
    name = str(case["__function__"])
    spec = KERNEL_SPECS[name]
    scalars = {k: int(case[k]) for k in spec.scalars}
    pointer_names = [a for a in spec.args if a not in spec.scalars]
    decls, args = [], []
    scratch = 0
    for _, _, size in nnlib.SCRATCH.get(name, ()):
        scratch = max(scratch, size(scalars))
    for arg in spec.args:
        for _, before, _ in nnlib.SCRATCH.get(name, ()):
            if before == arg:
                args.append("(q7_t *)hil_scratch")
        if arg in pointer_names:
            if arg == spec.output and not spec.in_place:
                decls.append(f"static q7_t c{i}_{arg}[{spec.output_size(scalars)}];")
            else:
                const = "" if (arg == spec.input) else "const "
                data = case[arg]
                decls.append(
                    f"static {const}q7_t c{i}_{arg}[{max(data.size, 1)}] = {{{_c_bytes(data)}}};"
                )
            args.append(f"c{i}_{arg}")
        elif arg == "type":
            args.append(f"(arm_nn_activation_type){scalars[arg]}")
        else:
            args.append(f"{scalars[arg]}u")
    for s_name, before, _ in nnlib.SCRATCH.get(name, ()):
        if before is None:
            args.append("hil_scratch" if s_name != "bufferB" else "(q7_t *)hil_scratch")
    call = f"{name}({', '.join(args)})"
    status = f"(int){call}" if spec.returns_status else f"({call}, 0)"
    out = f"c{i}_{spec.output}"
    lines = [
        f"    status = {status};",
        f'    printf("C{i} %d ", status);',
        f"    dump({out}, sizeof {out});",
    ]
    if f"{spec.input}__out" in case:
        lines += ["    putchar(' ');", f"    dump(c{i}_{spec.input}, sizeof c{i}_{spec.input});"]
    lines.append("    putchar('\\n');")
    return "\n".join(decls), "\n".join(lines), scratch


def program(cases: Sequence[Mapping[str, np.ndarray]]) -> str:
    blocks = [_case_block(i, c) for i, c in enumerate(cases)]
    scratch = max([b[2] for b in blocks] + [4])
    body = "\n".join(b[1] for b in blocks)
    decls = "\n".join(b[0] for b in blocks)
    return f"""#include <stdio.h>
#include "arm_nnfunctions.h"

q15_t hil_scratch[{scratch // 2 + 2}];
{decls}

static void dump(const q7_t *p, unsigned n)
{{
    for (unsigned i = 0; i < n; i++) {{
        printf("%02x", (unsigned)(uint8_t)p[i]);
    }}
}}

int main(void)
{{
    int status;
{body}
    return 0;
}}
"""


def build(source: Path, core: str, out: Path) -> Path:
    """Kernels at -O2 as a firmware build would; the generated program,
    which is only data and calls, at -O0 because that compiles fast."""
    common = [
        "arm-none-eabi-gcc",
        f"-mcpu={core}",
        "-mthumb",
        "-std=c99",
        "-Wall",
        "-Wextra",
        "-Werror",
        f"-I{nnlib.INCLUDE_DIR}",
    ]
    obj_dir = out.parent / f"obj_{core}"
    obj_dir.mkdir(exist_ok=True)
    steps = [
        [*common, "-O2", "-c", str(QEMU_DIR / "startup.c"), *map(str, nnlib.sources())],
        [*common, "-O0", "-c", str(source)],
    ]
    for cmd in steps:
        _checked(cmd, cwd=obj_dir)
    _checked(
        [
            *common,
            "--specs=rdimon.specs",
            "-nostartfiles",
            "-T",
            str(QEMU_DIR / "mps2.ld"),
            *map(str, sorted(obj_dir.glob("*.o"))),
            "-o",
            str(out),
        ],
        cwd=obj_dir,
    )
    return out


def _checked(cmd: list[str], cwd: Path) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise RuntimeError(f"cross build failed: {' '.join(cmd[:8])} ...\n{result.stderr[-4000:]}")


def run(elf: Path, core: str, timeout: float = 120.0) -> str:
    cmd = [
        "qemu-system-arm",
        "-M",
        MACHINES[core],
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-kernel",
        str(elf),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(
            f"test program exited with {result.returncode}:\n{result.stderr[-2000:]}"
        )
    return result.stdout


def run_cases(paths: Sequence[Path], *, core: str, work_dir: Path) -> dict[str, list[str]]:
    """{case path: problems} for the cases that fail on the emulated ``core``."""
    cases = [dict(np.load(p)) for p in paths]
    source = Path(work_dir) / "kernels_under_test.c"
    source.write_text(program(cases))
    lines = run(build(source, core, Path(work_dir) / f"kernels_{core}.elf"), core).splitlines()
    results = {}
    for line in lines:
        if line.startswith("C"):
            tag, status, *dumps = line.split(" ")
            results[int(tag[1:])] = (int(status), dumps)
    failures: dict[str, list[str]] = {}
    for i, (path, case) in enumerate(zip(paths, cases)):
        spec = KERNEL_SPECS[str(case["__function__"])]
        problems = []
        if i not in results:
            failures[str(path)] = ["no output"]
            continue
        status, dumps = results[i]
        if status != 0:
            problems.append(f"status {status}")
        got = np.frombuffer(bytes.fromhex(dumps[0]), dtype=np.int8)
        if not np.array_equal(got, case[spec.output_key]):
            problems.append(f"{spec.output_key} differs")
        if len(dumps) > 1:
            left = np.frombuffer(bytes.fromhex(dumps[1]), dtype=np.int8)
            if not np.array_equal(left, case[f"{spec.input}__out"]):
                problems.append(f"{spec.input}__out differs")
        if problems:
            failures[str(path)] = problems
    return failures
