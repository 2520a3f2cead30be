"""FAULT frames in words: CFSR bits, the layer, function names from the ELF,
stack overflow recognised from the fault bits or the guard region. Symbols of a real
gcc-built ELF: tests/firmware/test_fault_symbols_real_elf.py."""

from __future__ import annotations

import pytest

from hil.firmware.image import Symbol, SymbolTable, symbolized
from hil.protocol import generated as g
from hil.protocol.fault import DeviceFault, decode_fault
from hil.protocol.messages import pack

UNDEFINSTR, MSTKERR, DACCVIOL, MMARVALID = 1 << 16, 1 << 4, 1 << 1, 1 << 7


def fault(**regs) -> bytes:
    fields = dict(
        pc=0x1010,
        lr=0x2005,
        cfsr=UNDEFINSTR,
        hfsr=1 << 30,
        index=3,
        context=g.ENUMS["fault_context"]["LAYER"],
    )
    fields.update(regs)
    return pack("fault", **fields)


TABLE = SymbolTable(
    [Symbol("arm_relu_q7", 0x1000, 0x40), Symbol("hil_run_network", 0x2000, 0x100)],
    {"__stack_guard_start": 0x20000000, "__stack_guard_end": 0x20000400},
)


def test_fault_names_layer_bits_and_functions():
    text = decode_fault(fault()).describe(TABLE)
    assert text.startswith("device fault in layer 3")
    assert "pc=0x00001010 (arm_relu_q7+0x10)" in text
    assert "lr=0x00002005 (hil_run_network+0x4)" in text  # Thumb bit dropped
    assert "UNDEFINSTR" in text and "FORCED" in text


def test_address_outside_every_function_is_a_question_mark():
    assert "(?)" in decode_fault(fault(pc=0x9000)).describe(TABLE)


def test_stacking_error_is_a_stack_overflow():
    assert "stack overflow in layer 3" in decode_fault(fault(cfsr=MSTKERR)).describe()


def test_access_inside_the_stack_guard_is_a_stack_overflow():
    f = decode_fault(fault(cfsr=DACCVIOL | MMARVALID, mmfar=0x20000100))
    assert "stack overflow" in f.describe(TABLE)
    assert "stack overflow" not in f.describe()  # without the ELF: just a fault
    outside = decode_fault(fault(cfsr=DACCVIOL | MMARVALID, mmfar=0x30000000))
    assert "stack overflow" not in outside.describe(TABLE)


def test_symbolized_rewrites_a_device_fault_and_keeps_its_results(tmp_path):
    exe = tmp_path / "missing.elf"
    with pytest.raises(DeviceFault) as info:
        with symbolized(exe):
            err = DeviceFault(decode_fault(fault()))
            err.results = ["kept"]
            raise err
    assert info.value.results == ["kept"]  # no ELF: the original fault, unchanged
