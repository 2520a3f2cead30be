"""Pack and unpack the spec's structs by name (layouts from generated.py)."""

from __future__ import annotations

import struct

from hil.errors import ProtocolError
from hil.protocol import generated as g

_STRUCTS = {name: (struct.Struct(fmt), fields) for name, (fmt, _, fields, _) in g.STRUCTS.items()}

MESSAGE_NAMES = {v: k for k, v in g.MESSAGES.items()}
STATUS_NAMES = {v: k for k, v in g.STATUS.items()}
KERNEL_STATUS_NAMES = {v: k for k, v in g.KERNEL_STATUS.items()}


def size(name: str) -> int:
    return _STRUCTS[name][0].size


def pack(name: str, **fields: int | bytes | str) -> bytes:
    """Pack struct ``name``; omitted fields are 0, str fields are ASCII."""
    st, names = _STRUCTS[name]
    unknown = set(fields) - set(names)
    if unknown:
        raise ValueError(f"struct {name} has no field(s) {sorted(unknown)}")
    values = []
    for fname, code in zip(names, _codes(st.format)):
        v = fields.get(fname, b"" if code.endswith("s") else 0)
        values.append(v.encode("ascii") if isinstance(v, str) else v)
    return st.pack(*values)


def unpack(name: str, payload: bytes, *, exact: bool = True) -> tuple[dict, bytes]:
    """(fields, trailing bytes) of struct ``name`` at the start of ``payload``."""
    st, names = _STRUCTS[name]
    if len(payload) < st.size or (exact and len(payload) != st.size):
        raise ProtocolError(
            f"{name} payload has {len(payload)} bytes, expected {'' if exact else 'at least '}"
            f"{st.size}"
        )
    return dict(zip(names, st.unpack_from(payload))), payload[st.size :]


def text(raw: bytes) -> str:
    """A NUL-padded char[N] field as str."""
    return raw.split(b"\x00", 1)[0].decode("ascii", errors="replace")


def _codes(fmt: str) -> list[str]:
    codes, digits = [], ""
    for ch in fmt.lstrip("<"):
        if ch.isdigit():
            digits += ch
        else:
            codes.append(digits + ch)
            digits = ""
    return codes
