"""Link: request/response, stale frames, retries, errors, over real pyserial ports."""

from __future__ import annotations

import pytest

from hil.errors import DeviceError, ProtocolError
from hil.protocol import generated as g
from hil.protocol.fault import DeviceFault
from hil.protocol.frames import Frame, encode
from hil.protocol.link import Link, open_port
from hil.protocol.messages import pack

from helpers.fakedev import FakeDevice


def ack(frame: Frame, value: int = 0) -> bytes:
    return encode(Frame(g.MSG_ACK, frame.seq, pack("ack", value=value)))


def error(frame: Frame, status: str, detail: bytes = b"") -> bytes:
    payload = pack("error", status=g.STATUS[status], request_type=frame.type) + detail
    return encode(Frame(g.MSG_ERROR, frame.seq, payload))


def test_loop_url_carries_frames_both_ways():
    with Link.open("loop://", timeout=1) as link:
        frames = [Frame(g.MSG_ACK, 5, b"\x00" * 8), Frame(g.MSG_HELLO, 6, bytes(range(200)))]
        for f in frames:
            link.send(f)
        assert [link.receive(1, "echo") for _ in frames] == frames


def test_response_echoes_seq_and_stale_frames_are_dropped():
    def handler(frame):
        stale = encode(Frame(g.MSG_ACK, (frame.seq - 1) & 0xFFFF, pack("ack", value=99)))
        boot_hello = encode(Frame(g.MSG_HELLO, 0, b"")) if frame.seq == 1 else b""
        return stale + boot_hello + ack(frame, value=frame.seq)

    with FakeDevice(handler) as dev, Link.open(dev.url, timeout=2) as link:
        got = [link.request(g.MSG_LOAD_INPUT, b"x", expect={g.MSG_ACK}) for _ in range(3)]
        assert [f.seq for f in got] == [1, 2, 3]
        assert [f.seq for f in dev.received] == [1, 2, 3]
        assert link.stale_frames == 4


def test_timeout_resends_with_the_same_seq():
    calls = []

    def handler(frame):
        calls.append(frame)
        return b"" if len(calls) == 1 else ack(frame)

    with FakeDevice(handler) as dev, Link.open(dev.url, timeout=0.2, retries=2) as link:
        assert link.request(g.MSG_HELLO_REQ, expect={g.MSG_ACK}).type == g.MSG_ACK
    assert [f.seq for f in calls] == [1, 1]


def test_damaged_request_reported_by_the_device_is_resent():
    calls = []

    def handler(frame):
        calls.append(frame)
        return error(frame, "BAD_CRC") if len(calls) == 1 else ack(frame)

    with FakeDevice(handler) as dev, Link.open(dev.url, timeout=2) as link:
        link.request(g.MSG_LOAD_INPUT, b"abc", expect={g.MSG_ACK})
    assert len(calls) == 2 and calls[0] == calls[1]


def test_timeout_error_names_expectation_tail_and_log():
    with (
        FakeDevice(lambda f: b"\x11\x22\x33") as dev,
        Link.open(dev.url, timeout=0.1, retries=1, log_path="/tmp/dev.log") as link,
    ):
        with pytest.raises(DeviceError) as info:
            link.request(g.MSG_HELLO_REQ, expect={g.MSG_HELLO})
    msg = str(info.value)
    assert "HELLO answering HELLO_REQ" in msg
    assert "11 22 33" in msg
    assert "/tmp/dev.log" in info.value.hint


def test_device_error_becomes_protocol_error_with_status_and_detail():
    with (
        FakeDevice(lambda f: error(f, "OUT_OF_RANGE", b"beyond input size")) as dev,
        Link.open(dev.url, timeout=2) as link,
    ):
        with pytest.raises(ProtocolError, match="OUT_OF_RANGE.*beyond input size"):
            link.request(g.MSG_LOAD_INPUT, b"\x00" * 8, expect={g.MSG_ACK})


def test_fault_frame_raises_device_fault_with_named_bits():
    regs = dict(pc=0x1234, lr=0x5678, cfsr=(1 << 1) | (1 << 7) | (1 << 25), mmfar=0xDEAD0000)
    fault = pack("fault", **regs, index=3, context=g.ENUMS["fault_context"]["LAYER"])

    with (
        FakeDevice(lambda f: encode(Frame(g.MSG_FAULT, f.seq, fault))) as dev,
        Link.open(dev.url, timeout=2) as link,
    ):
        with pytest.raises(DeviceFault) as info:
            list(link.exchange(g.MSG_RUN, pack("run"), until={g.MSG_RUN_DONE}))
    f = info.value.fault
    assert f.cfsr_flags == ("DACCVIOL", "MMARVALID", "DIVBYZERO")
    assert f.index == 3 and f.context == "layer"
    assert f.registers["pc"] == 0x1234
    assert "layer 3" in str(info.value) and "MMFAR=0xdead0000" in str(info.value)
    assert isinstance(info.value, DeviceError)


def test_exchange_yields_a_stream_until_the_final_frame():
    def handler(frame):
        chunks = [encode(Frame(g.MSG_LAYER_OUTPUT, frame.seq, bytes([i]) * 10)) for i in range(3)]
        return b"".join(chunks) + encode(Frame(g.MSG_RUN_DONE, frame.seq, pack("run_done")))

    with FakeDevice(handler) as dev, Link.open(dev.url, timeout=2) as link:
        got = list(link.exchange(g.MSG_RUN, pack("run"), until={g.MSG_RUN_DONE}))
    assert [f.type for f in got] == [g.MSG_LAYER_OUTPUT] * 3 + [g.MSG_RUN_DONE]


def test_unopenable_port_is_a_device_error_with_hint():
    with pytest.raises(DeviceError) as info:
        open_port("/dev/does-not-exist-hil")
    assert "does-not-exist-hil" in str(info.value)
    assert info.value.hint


def test_damaged_frames_are_counted_across_a_flush():
    def handler(frame):
        return b"\x05garbage\x00" + ack(frame, value=1)

    with FakeDevice(handler) as dev, Link.open(dev.url, timeout=2) as link:
        link.request(g.MSG_LOAD_INPUT, b"x", expect={g.MSG_ACK})
        link.flush_input()
        link.request(g.MSG_LOAD_INPUT, b"y", expect={g.MSG_ACK})
        assert link.counters()["damaged_frames"] == 2
