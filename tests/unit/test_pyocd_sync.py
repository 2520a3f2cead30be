"""After a board reset the host synchronises on HELLO: boot noise and a missed first reply are not fatal.

A real board boots before its port is opened (or while it is), so the host
may see the tail of the old firmware's output, line noise, and the boot
HELLO (seq 0) before it gets the answer to its own HELLO request. The link
drops undecodable bytes and stale frames and resends on timeout.
"""

from __future__ import annotations

from hil.device.session import DeviceSession
from hil.protocol import generated as g
from hil.protocol.frames import Frame, encode
from hil.protocol.link import Link
from hil.protocol.messages import pack

from helpers.fakedev import FakeDevice

NOISE = b"\xff\xfe\x00garbage from the old firmware\x00\x13\x37half a fr"


def hello(seq: int) -> bytes:
    payload = pack(
        "hello",
        protocol_version=g.PROTOCOL_VERSION,
        protocol_hash=g.PROTOCOL_HASH,
        max_payload=g.MAX_PAYLOAD,
        board_id="nucleo-f746",
        core="cortex-m7",
        backend=1,
        variant=g.ENUMS["variant"]["DSP"],
        cycle_source=g.ENUMS["cycle_source"]["DWT"],
        cycle_hz=216_000_000,
    )
    return encode(Frame(g.MSG_HELLO, seq, payload))


def test_hello_after_boot_noise_and_a_lost_first_request():
    requests = []

    def device(frame: Frame) -> bytes:
        requests.append(frame)
        if len(requests) == 1:
            return NOISE  # still booting: the first request is lost in noise
        return NOISE + b"\x00" + hello(0) + hello(frame.seq)

    # The noise ends in a frame delimiter, so the boot HELLO after it arrives intact.
    with (
        FakeDevice(device, greeting=NOISE + b"\x00" + hello(0)) as dev,
        Link.open(dev.url, timeout=0.3, retries=3) as link,
    ):
        info = DeviceSession(link).hello()
    assert (info.board_id, info.cycle_source, info.cycle_hz) == ("nucleo-f746", "dwt", 216_000_000)
    assert [f.type for f in requests] == [g.MSG_HELLO_REQ, g.MSG_HELLO_REQ]
    assert requests[0].seq == requests[1].seq
    assert link.stale_frames >= 1  # a boot HELLO (seq 0) was dropped, not taken as the answer
