"""C names for an export: the module name the user picks and the symbols derived from it."""

from __future__ import annotations

import keyword
import re

from hil.errors import ConfigError

_C_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NAME = 40  # leaves room for the longest derived symbol in 63 significant characters
# Words a C compiler will not take as a name, and prefixes the module's own headers use.
_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto "
    "if inline int long register restrict return short signed sizeof static struct switch "
    "typedef union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex "
    "_Generic _Imaginary _Noreturn _Static_assert _Thread_local".split()
)
_RESERVED_PREFIXES = ("arm_", "hil_")


def c_identifier(text: str) -> str:
    """``text`` with every character a C identifier cannot hold replaced by ``_``."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return out if out and not out[0].isdigit() else "_" + out


def default_name(model_name: str) -> str:
    """The module name an export gets without --name: the model's, made a C identifier."""
    name = c_identifier(model_name).lower().lstrip("_") or "net"
    if (
        name[0].isdigit()
        or name in _C_KEYWORDS
        or keyword.iskeyword(name)
        or name.startswith(_RESERVED_PREFIXES)
    ):
        name = "net_" + name
    return name[:MAX_NAME]


def check_name(name: str, option: str = "--name") -> str:
    """Refuse a module name that is not a usable C identifier, with the fix."""
    suggestion = default_name(name) if name else "my_net"
    if not _C_IDENTIFIER.match(name):
        raise ConfigError(
            f"{option} {name!r} is not a C identifier (letters, digits and _, not starting "
            "with a digit)",
            hint=f"use e.g. {option} {suggestion}",
        )
    if name in _C_KEYWORDS:
        raise ConfigError(f"{option} {name!r} is a C keyword", hint=f"use e.g. {option} net_{name}")
    if name.startswith(_RESERVED_PREFIXES):
        raise ConfigError(
            f"{option} {name!r} starts with {name[:4]!r}, which CMSIS-NN and hil use for their "
            "own symbols",
            hint=f"use e.g. {option} net_{name}",
        )
    if len(name) > MAX_NAME:
        raise ConfigError(
            f"{option} {name!r} is {len(name)} characters long; at most {MAX_NAME} keep every "
            "derived symbol within C's 63 significant characters",
            hint=f"use e.g. {option} {name[:MAX_NAME]}",
        )
    return name


def layer_symbols(module: str, layer_names: list[str]) -> list[str]:
    """One distinct C symbol stem per layer: MODULE_layername, or with the index on a clash."""
    stems = [f"{module}_{c_identifier(n).lower()}" for n in layer_names]
    out = []
    for i, stem in enumerate(stems):
        out.append(stem if stems.count(stem) == 1 else f"{stem}_{i}")
    return out


def c_string(text: str) -> str:
    """``text`` as a C string literal (UTF-8 bytes, escaped)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")  # octal: never swallows following digits
    return '"' + "".join(out) + '"'
