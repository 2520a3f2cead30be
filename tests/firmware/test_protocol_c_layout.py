"""The generated C header (firmware/include/hil_protocol.h), compiled with the host gcc,
lays its structs out as hil.protocol.generated says. The rest of the generated
protocol: tests/unit/test_protocol_generated.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hil.protocol import generated as g

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.needs_gcc
def test_c_struct_layout_matches_python(tmp_path):
    lines = [
        "#include <stddef.h>",
        "#include <stdio.h>",
        '#include "hil_protocol.h"',
        "int main(void) {",
    ]
    for name, (_, _, fields, _) in g.STRUCTS.items():
        lines.append(f'    printf("{name} sizeof() %zu\\n", sizeof(hil_{name}_t));')
        for f in fields:
            lines.append(f'    printf("{name} {f} %zu\\n", offsetof(hil_{name}_t, {f}));')
    lines += ["    return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run(
        [
            "gcc",
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{REPO / 'firmware' / 'include'}",
            str(src),
            "-o",
            str(exe),
        ],
        check=True,
    )
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    c_layout = {tuple(line.split()[:2]): int(line.split()[2]) for line in out.splitlines()}
    for name, (_, size, fields, offsets) in g.STRUCTS.items():
        assert c_layout[(name, "sizeof()")] == size, name
        for f, off in zip(fields, offsets):
            assert c_layout[(name, f)] == off, (name, f)
