"""What the code generators share: write their files, or (--check) list the stale ones."""

from __future__ import annotations

from pathlib import Path


def write_or_check(outputs: dict[Path, str], argv: list[str], root: Path, script: str) -> int:
    """Write every output, or with ``--check`` name each stale one and return 1."""
    if "--check" in argv:
        stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
        for p in stale:
            print(f"stale: {p.relative_to(root)} (run {script})")
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text)
        print(f"wrote {path.relative_to(root)}")
    return 0
