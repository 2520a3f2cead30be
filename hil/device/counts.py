"""Labelled cycle counts: never present an emulated count as silicon cycles.

The firmware reports raw ticks and what produced them (HELLO names the
source and its clock). On silicon the DWT counts core cycles. On QEMU there
is no DWT; a timer runs from the 25 MHz clock, and under ``-icount
shift=S`` QEMU advances it by 2**S / 40 ticks per executed instruction, so
instructions = ticks * 40 / 2**S (rounded: exact when 2**S / 40 > 2).
"""

from __future__ import annotations

from dataclasses import dataclass

from hil.config.boards import icount_instructions_per_tick


@dataclass(frozen=True)
class CountSource:
    """What a device's tick counter measures and how to turn ticks into a count."""

    name: str  # "dwt", "qemu-icount", "systick"
    unit: str  # "cycles", "instructions", "ticks"
    scale: float  # count = ticks * scale

    def convert(self, ticks: int) -> int:
        return int(round(ticks * self.scale))


def count_source(device_source: str, *, emulated: bool, icount_shift: int | None) -> CountSource:
    """Pick the label and scale for a device's reported tick source.

    ``device_source`` is the name from HELLO ("dwt", "systick", "timer").
    """
    if device_source == "dwt":
        if emulated:
            # No emulator we support models the DWT; if one ever reports it,
            # its "cycles" are still not silicon cycles.
            return CountSource("emulated-dwt", "ticks", 1.0)
        return CountSource("dwt", "cycles", 1.0)
    if device_source in ("systick", "timer") and emulated and icount_shift is not None:
        return CountSource(
            "qemu-icount", "instructions", icount_instructions_per_tick(icount_shift)
        )
    return CountSource(device_source, "ticks", 1.0)
