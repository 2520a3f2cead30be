"""The device watchdog on the host side: the timeout an image gets, the
FAULT frame of a watchdog expiry, and a watchdog reboot ending a run at once
instead of being retried."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hil.config.boards import load_board
from hil.device.session import DeviceSession
from hil.errors import WatchdogReset
from hil.firmware.image import Symbol, SymbolTable
from hil.firmware.watchdog import CYCLES_PER_MAC_BOUND, WORK_MARGIN, watchdog_define, watchdog_ms
from hil.model.examples import build_example
from hil.protocol import generated as g
from hil.protocol.fault import DeviceFault, decode_fault
from hil.protocol.frames import Frame, encode
from hil.protocol.link import Link
from hil.protocol.messages import pack

from helpers.fakedev import FakeDevice

WATCHDOG = g.ENUMS["reset_cause"]["WATCHDOG"]
SOFTWARE = g.ENUMS["reset_cause"]["SOFTWARE"]


def macs(model: str) -> list[int]:
    return [layer.macs for layer in build_example(model).layers]


def test_small_models_get_the_board_floor():
    board = load_board("qemu-m3")
    assert watchdog_ms(board, macs("lenet5")) == board.watchdog_ms == 10_000
    assert watchdog_define(board) == {"HIL_WATCHDOG_MS": "10000u"}


def test_a_large_layer_raises_the_timeout_in_virtual_time():
    board = load_board("qemu-m7")
    largest = max(macs("cifar10"))
    # -icount shift 7: 128 ns of virtual time per instruction.
    want = 1000 * WORK_MARGIN * largest * CYCLES_PER_MAC_BOUND * 128e-9
    got = watchdog_ms(board, macs("cifar10"))
    assert want <= got < want + 1 and got > board.watchdog_ms


def test_silicon_scales_with_its_clock_and_zero_turns_it_off():
    board = load_board("nucleo-f746")
    huge = [2_000_000_000]
    assert watchdog_ms(board, huge) == pytest.approx(
        1000 * WORK_MARGIN * huge[0] * CYCLES_PER_MAC_BOUND / 216e6, abs=1
    )
    no_clock = dataclasses.replace(board, clock_hz=None)
    assert watchdog_ms(no_clock, huge) == board.watchdog_ms
    assert watchdog_ms(dataclasses.replace(board, watchdog_ms=0), huge) == 0


TABLE = SymbolTable([Symbol("hil_run_network", 0x2000, 0x100)], {})


def watchdog_fault(**regs) -> bytes:
    fields = dict(
        pc=0x2040,
        lr=0x2011,
        index=2,
        context=g.ENUMS["fault_context"]["LAYER"],
        cause=g.ENUMS["fault_cause"]["WATCHDOG"],
    )
    fields.update(regs)
    return pack("fault", **fields)


def test_watchdog_fault_says_where_the_firmware_stopped():
    info = decode_fault(watchdog_fault())
    assert info.watchdog
    text = info.describe(TABLE)
    assert text.startswith("device watchdog expired in layer 2")
    assert "pc=0x00002040 (hil_run_network+0x40)" in text
    assert "CFSR" not in text  # no fault bits to show
    err = DeviceFault(info, symbols=TABLE)
    assert "watchdog_ms" in err.hint


def hello(seq: int, reset_cause: int) -> bytes:
    return encode(
        Frame(
            g.MSG_HELLO,
            seq,
            pack(
                "hello",
                reset_cause=reset_cause,
                num_layers=2,
                input_size=4,
                max_payload=g.MAX_PAYLOAD,
            ),
        )
    )


def rebooting_device(reset_cause: int):
    """Answers HELLO_REQ and LOAD_INPUT; reboots (boot HELLO, seq 0) on RUN."""

    def handler(frame: Frame) -> bytes:
        if frame.type == g.MSG_HELLO_REQ:
            return hello(frame.seq, SOFTWARE)
        if frame.type == g.MSG_LOAD_INPUT:
            return encode(Frame(g.MSG_ACK, frame.seq, pack("ack")))
        if frame.type == g.MSG_RUN:
            return hello(0, reset_cause)
        return b""

    return handler


def test_a_watchdog_reboot_ends_the_vector_without_retrying():
    with FakeDevice(rebooting_device(WATCHDOG)) as dev, Link.open(dev.url, timeout=2) as link:
        session = DeviceSession(link)
        session.hello()
        with pytest.raises(WatchdogReset) as info:
            session.infer(np.zeros(4, dtype=np.int8), dump="digest")
    assert "watchdog rebooted it" in info.value.message and "watchdog_ms" in info.value.hint
    assert [f.type for f in dev.received].count(g.MSG_RUN) == 1
    assert info.value.results == []


def test_any_other_reboot_is_still_recovered_from():
    with FakeDevice(rebooting_device(SOFTWARE)) as dev, Link.open(dev.url, timeout=2) as link:
        link.retries = 0
        session = DeviceSession(link)
        session.vector_retries = 1
        session.hello()
        with pytest.raises(Exception) as info:
            session.infer(np.zeros(4, dtype=np.int8), dump="digest")
    assert not isinstance(info.value, WatchdogReset)
    assert "gave up on a vector" in str(info.value)
    assert [f.type for f in dev.received].count(g.MSG_RUN) > 1


def test_a_lost_boot_hello_is_caught_by_the_resync():
    """The boot HELLO never arrived, but the HELLO that answers the resync says why it booted."""
    causes = iter([SOFTWARE, WATCHDOG])

    def handler(frame: Frame) -> bytes:
        return hello(frame.seq, next(causes)) if frame.type == g.MSG_HELLO_REQ else b""

    with FakeDevice(handler) as dev, Link.open(dev.url, timeout=2) as link:
        session = DeviceSession(link)
        session.hello()
        with pytest.raises(WatchdogReset):
            session.resync()
