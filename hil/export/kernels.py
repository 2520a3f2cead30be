"""Which portable kernel files an export needs: each function's own file plus the
helper files it calls into, found by reading the sources (so a new helper needs no list)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hil.datadirs import firmware_root

KERNELS_DIR = "kernels"  # inside the export
# What a helper file defines for other files: non-static functions and const tables.
_DEFINITION = re.compile(
    r"^(?!static\b)[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\s*(?:\(|\[)", re.MULTILINE
)


@dataclass(frozen=True)
class KernelFiles:
    sources: tuple[Path, ...]  # the .c files, in a fixed order
    headers: tuple[Path, ...]  # every header of the portable library


# Where each family's portable library lives under firmware/nn.
FAMILY_DIRS = {"q7": ".", "s8": "s8"}


def portable_dir(family: str = "q7") -> Path:
    return firmware_root() / "nn" / FAMILY_DIRS[family]


@lru_cache(maxsize=len(FAMILY_DIRS))
def _definitions(family: str = "q7") -> dict[str, frozenset[str]]:
    """Per source file of the portable library: the global symbols it defines."""
    out = {}
    for src in sorted((portable_dir(family) / "src").glob("*.c")):
        out[src.name] = _defines(src.read_text())
    return out


def _defines(text: str) -> frozenset[str]:
    return frozenset(
        m.group(1) for m in _DEFINITION.finditer(text) if not m.group(0).startswith("#")
    )


def _calls(text: str, own: str, defined: dict[str, frozenset[str]]) -> set[str]:
    return {
        name
        for name, symbols in defined.items()
        if name != own and any(re.search(rf"\b{re.escape(s)}\b", text) for s in symbols)
    }


def _needs(path: Path, defined: dict[str, frozenset[str]]) -> set[str]:
    return _calls(path.read_text(), path.name, defined)


def kernel_dependencies(sources: dict[str, str]) -> dict[str, set[str]]:
    """For each of ``sources`` (name -> C text), the other ones it calls into: a static
    library per file must link the files it calls (a kernel may call another kernel)."""
    defined = {name: _defines(text) for name, text in sources.items()}
    return {name: _calls(text, name, defined) for name, text in sources.items()}


def portable_kernel_files(functions: list[str], family: str = "q7") -> KernelFiles:
    """The portable sources of ``family`` that define ``functions``, with everything
    they call."""
    src_dir = portable_dir(family) / "src"
    defined = _definitions(family)
    todo = [f"{fn}.c" for fn in dict.fromkeys(functions)]
    for name in todo:
        if not (src_dir / name).is_file():
            raise AssertionError(f"no portable source {name} for a catalogued kernel")
    chosen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in chosen:
            continue
        chosen.add(name)
        todo.extend(_needs(src_dir / name, defined) - chosen)
    inc = portable_dir(family) / "include"
    headers = sorted(inc.glob("*.h")) + sorted(src_dir.glob("*.h"))
    return KernelFiles(tuple(src_dir / n for n in sorted(chosen)), tuple(headers))
