"""Labelled cycle counts: never present an emulated count as silicon cycles.

The firmware reports raw ticks and what produced them (HELLO names the
source and its clock). On silicon the DWT counts core cycles. On QEMU there
is no DWT; a timer runs from a fixed clock (the board file's ``timer_hz``:
25 MHz on mps2, 32 MHz on mps3-an547), and under ``-icount shift=S`` QEMU
advances it by 2**S * timer_hz / 1e9 ticks per executed instruction, so
instructions = ticks * (1e9 / timer_hz) / 2**S (rounded: exact when there
are more than 2 ticks per instruction).
"""

from __future__ import annotations

from dataclasses import dataclass

from hil.config.boards import QEMU_TIMER_HZ, icount_instructions_per_tick


@dataclass(frozen=True)
class CountSource:
    """What a device's tick counter measures and how to turn ticks into a count."""

    name: str  # "dwt", "qemu-icount", "systick"
    unit: str  # "cycles", "instructions", "ticks"
    scale: float  # count = ticks * scale

    def convert(self, ticks: int) -> int:
        return int(round(ticks * self.scale))


def count_source(
    device_source: str,
    *,
    emulated: bool,
    icount_shift: int | None,
    timer_hz: int = QEMU_TIMER_HZ,
) -> CountSource:
    """Pick the label and scale for a device's reported tick source.

    ``device_source`` is the name from HELLO ("dwt", "systick", "timer");
    ``timer_hz`` the clock of an emulated board's timer (its ``[qemu] timer_hz``).
    """
    if device_source == "dwt":
        if emulated:
            # No emulator we support models the DWT; if one ever reports it,
            # its "cycles" are still not silicon cycles.
            return CountSource("emulated-dwt", "ticks", 1.0)
        return CountSource("dwt", "cycles", 1.0)
    if device_source in ("systick", "timer") and emulated and icount_shift is not None:
        return CountSource(
            "qemu-icount", "instructions", icount_instructions_per_tick(icount_shift, timer_hz)
        )
    return CountSource(device_source, "ticks", 1.0)
