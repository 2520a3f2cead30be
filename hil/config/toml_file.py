"""Reading the project's TOML files (boards, lab file, port descriptions): a file
that cannot be read or parsed is one ConfigError line naming it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from hil.errors import ConfigError


def read_toml(path: Path, what: str, hint: str = "fix the syntax") -> dict[str, Any]:
    """``path`` parsed; ``what`` names the kind of file in the message ("board file")."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        detail = " ".join(str(exc).split())  # one line, whatever the parser said
        raise ConfigError(f"{what} {path} is not valid TOML: {detail}", hint=hint) from None
