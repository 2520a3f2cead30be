"""The device watchdog's timeout for one image.

The firmware feeds its watchdog whenever it makes progress: a kernel call
starts or ends, a frame goes out. The longest stretch without progress is
therefore one kernel call, so the timeout is the board's floor
(``watchdog_ms``) or, for a model with a larger layer, that layer's work at
a pessimistic rate with the same margin the host's own waits use.
"""

from __future__ import annotations

import math
from typing import Sequence

from hil.config.boards import Board

# The plain-C kernels take about 12 instructions per MAC on a Cortex-M3 and
# the DSP path fewer; 32 leaves room for memory stalls on silicon.
CYCLES_PER_MAC_BOUND = 32
# How much longer than its expected work a layer may take, here and in the host's waits.
WORK_MARGIN = 4.0


def device_rate(board: Board) -> float | None:
    """Instructions (or cycles) per second of device time; None when unknown."""
    if board.qemu is not None:
        # Under -icount shift=S every instruction takes 2^S ns of virtual time.
        return 1e9 / 2**board.qemu.icount_shift
    return float(board.clock_hz) if board.clock_hz else None


def watchdog_ms(board: Board, layer_macs: Sequence[int] = ()) -> int:
    """Milliseconds the image's watchdog allows without progress (0: off)."""
    if board.watchdog_ms == 0:
        return 0
    rate = device_rate(board)
    longest = max(layer_macs, default=0)
    if rate is None or longest == 0:
        return board.watchdog_ms
    need = math.ceil(1000 * WORK_MARGIN * longest * CYCLES_PER_MAC_BOUND / rate)
    return max(board.watchdog_ms, need)


def watchdog_define(board: Board, layer_macs: Sequence[int] = ()) -> dict[str, str]:
    """The build define that sets it (firmware/src/main.c)."""
    return {"HIL_WATCHDOG_MS": f"{watchdog_ms(board, layer_macs)}u"}
