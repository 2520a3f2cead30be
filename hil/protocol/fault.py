"""FAULT frames: decoded Cortex-M fault registers and the DeviceFault error."""

from __future__ import annotations

from dataclasses import dataclass

from hil.errors import DeviceError
from hil.protocol import generated as g
from hil.protocol.messages import unpack

# Configurable Fault Status Register (MMFSR | BFSR << 8 | UFSR << 16).
CFSR_BITS = {
    0: "IACCVIOL",
    1: "DACCVIOL",
    3: "MUNSTKERR",
    4: "MSTKERR",
    5: "MLSPERR",
    7: "MMARVALID",
    8: "IBUSERR",
    9: "PRECISERR",
    10: "IMPRECISERR",
    11: "UNSTKERR",
    12: "STKERR",
    13: "LSPERR",
    15: "BFARVALID",
    16: "UNDEFINSTR",
    17: "INVSTATE",
    18: "INVPC",
    19: "NOCP",
    20: "STKOF",
    24: "UNALIGNED",
    25: "DIVBYZERO",
}
HFSR_BITS = {1: "VECTTBL", 30: "FORCED", 31: "DEBUGEVT"}
_CONTEXTS = {v: k.lower() for k, v in g.ENUMS["fault_context"].items()}
_CAUSES = {v: k.lower() for k, v in g.ENUMS["fault_cause"].items()}
NO_INDEX = 0xFFFF
WATCHDOG_HINT = (
    "a kernel hung or a layer ran longer than the watchdog allows; if the layer is "
    "legitimately that long, raise watchdog_ms in the board file"
)


def bit_names(value: int, names: dict[int, str]) -> tuple[str, ...]:
    return tuple(name for bit, name in sorted(names.items()) if value >> bit & 1)


@dataclass(frozen=True)
class FaultInfo:
    registers: dict[str, int]  # r0..xpsr, cfsr, hfsr, mmfar, bfar, exc_return
    context: str  # "idle", "layer" or "kernel"
    index: int | None  # layer index, or function id for a kernel
    cause: str = "cpu"  # "cpu" (a fault exception) or "watchdog" (no progress)

    @property
    def watchdog(self) -> bool:
        return self.cause == "watchdog"

    @property
    def cfsr_flags(self) -> tuple[str, ...]:
        return bit_names(self.registers["cfsr"], CFSR_BITS)

    @property
    def stack_overflow(self) -> bool:
        """Stacking failed (MSTKERR/STKERR) or the v8-M stack limit hit (STKOF)."""
        return bool({"MSTKERR", "STKERR", "STKOF"} & set(self.cfsr_flags))

    def in_stack_guard(self, symbols) -> bool:
        guard = symbols.stack_guard() if symbols is not None else None
        return (
            guard is not None
            and "MMARVALID" in self.cfsr_flags
            and guard[0] <= self.registers["mmfar"] < guard[1]
        )

    @property
    def hfsr_flags(self) -> tuple[str, ...]:
        return bit_names(self.registers["hfsr"], HFSR_BITS)

    def describe(self, symbols=None) -> str:
        """One line; ``symbols`` (hil.firmware.image.SymbolTable) adds function names at PC/LR."""
        r = self.registers
        where = {"layer": f"in layer {self.index}", "kernel": f"in kernel id {self.index}"}
        if self.watchdog:
            kind = "watchdog expired"  # pc is where the firmware stopped making progress
        elif self.stack_overflow or self.in_stack_guard(symbols):
            kind = "stack overflow"
        else:
            kind = "fault"
        pc, lr = f"pc=0x{r['pc']:08x}", f"lr=0x{r['lr']:08x}"
        if symbols is not None:
            pc += f" ({symbols.lookup(r['pc']) or '?'})"
            lr += f" ({symbols.lookup(r['lr']) or '?'})"
        if "MSTKERR" in self.cfsr_flags or "STKERR" in self.cfsr_flags:
            pc_lr = "registers not stacked"  # the exception entry itself failed
        else:
            pc_lr = f"{pc} {lr}"
        parts = [f"device {kind} {where.get(self.context, 'outside a kernel')}", pc_lr]
        if not self.watchdog or r["cfsr"]:
            parts.append(f"CFSR=0x{r['cfsr']:08x} [{' '.join(self.cfsr_flags) or '-'}]")
        if self.hfsr_flags:
            parts.append(f"HFSR=0x{r['hfsr']:08x} [{' '.join(self.hfsr_flags)}]")
        if "MMARVALID" in self.cfsr_flags:
            parts.append(f"MMFAR=0x{r['mmfar']:08x}")
        if "BFARVALID" in self.cfsr_flags:
            parts.append(f"BFAR=0x{r['bfar']:08x}")
        return ", ".join(parts)


def decode_fault(payload: bytes) -> FaultInfo:
    fields, _ = unpack("fault", payload)
    index = fields.pop("index")
    context = _CONTEXTS.get(fields.pop("context"), "unknown")
    cause = _CAUSES.get(fields.pop("cause"), "cpu")
    return FaultInfo(fields, context, None if index == NO_INDEX else index, cause)


class DeviceFault(DeviceError):
    """The device took a CPU fault (HardFault/UsageFault/...) or its watchdog
    expired, reported it, and halted."""

    def __init__(self, fault: FaultInfo, *, symbols=None) -> None:
        if fault.watchdog:
            hint = f"the device halted at pc; {WATCHDOG_HINT}"
        else:
            hint = (
                "the device halted: reset or relaunch it; a fault inside a kernel usually "
                "means layer parameters outside the kernel's documented limits"
            )
        super().__init__(fault.describe(symbols), hint=hint)
        self.fault = fault
