"""How much of each layer's output crosses the wire: one vocabulary, host and device.

``all``, ``digest`` and ``none`` are the protocol's own modes (full tensors,
CRC-32 digests, ticks only). ``mismatch`` is a host strategy over two of them:
digests first, and the full tensors again for a vector whose digest differs.
"""

from __future__ import annotations

from enum import Enum

from hil.errors import ConfigError
from hil.protocol import generated as g

PROTOCOL_MODES = {name.lower(): value for name, value in g.ENUMS["dump"].items()}


class DumpMode(str, Enum):
    ALL = "all"
    MISMATCH = "mismatch"
    DIGEST = "digest"
    NONE = "none"

    @property
    def judges_layers(self) -> bool:
        """Whether a layer can be judged from what this mode sends (ticks alone cannot)."""
        return self is not DumpMode.NONE

    @property
    def first_pass(self) -> str:
        """The protocol mode a vector is first run with."""
        return "digest" if self is DumpMode.MISMATCH else self.value


def dump_mode(value: str | DumpMode, *, option: str = "dump mode") -> DumpMode:
    """``value`` as a DumpMode, or a one-line ConfigError naming the choices."""
    try:
        return DumpMode(value)
    except ValueError:
        choices = ", ".join(m.value for m in DumpMode)
        raise ConfigError(f"unknown {option} {value!r}", hint=f"use one of: {choices}") from None


def protocol_mode(value: str) -> int:
    """The protocol's dump byte for ``value`` (all, digest or none)."""
    try:
        return PROTOCOL_MODES[value]
    except KeyError:
        raise ConfigError(
            f"unknown dump mode {value!r}", hint=f"use one of: {', '.join(PROTOCOL_MODES)}"
        ) from None
