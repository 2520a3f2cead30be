"""The link fault injector: seeded faults, cuts, and pacing when its spec has a baud."""

from __future__ import annotations

import pytest

from hil.errors import ConfigError
from hil.transport.faults import FaultSpec, LinkCut, LinkFaults, parse_spec

from helpers.loopback import MemPort

DATA = bytes(range(256)) * 64


def loop_port() -> MemPort:
    return MemPort()


def through(spec: str, chunks: list[int]) -> tuple[bytes, dict]:
    """Send DATA through a loop port wrapped by ``spec`` in the given write sizes."""
    faults = LinkFaults(spec)
    port = faults.wrap(loop_port())
    port.timeout = 0
    got = bytearray()
    off = 0
    for n in chunks:
        port.write(DATA[off : off + n])
        off += n
        got += port.read(1 << 20)
    return bytes(got), faults.counts.as_dict()


def test_parse_spec_reads_every_key():
    s = parse_spec("drop=0.001, flip=0.002,dup=0,garbage=0.0001,cut_after=20000,seed=7,baud=115200")
    assert (s.drop, s.flip, s.dup, s.garbage, s.cut_after, s.seed, s.baud) == (
        0.001,
        0.002,
        0,
        0.0001,
        20000,
        7,
        115200,
    )
    assert parse_spec(str(s)) == s
    assert parse_spec("") == FaultSpec()


@pytest.mark.parametrize(
    "text, match",
    [
        ("drop", "bad link fault item"),
        ("jitter=0.1", "bad link fault item"),
        ("drop=lots", "not a number"),
        ("flip=1.5", "out of range"),
        ("cut_after=-1", "out of range"),
    ],
)
def test_parse_spec_refuses_bad_items(text, match):
    with pytest.raises(ConfigError, match=match):
        parse_spec(text)


def test_clean_spec_passes_bytes_untouched():
    got, counts = through("seed=3", [1000, 5000, len(DATA) - 6000])
    assert got == DATA and counts["bytes"] == 2 * len(DATA) and counts["dropped"] == 0


def test_faults_are_seeded_and_independent_of_chunking():
    spec = "drop=0.01,flip=0.01,dup=0.01,garbage=0.002,seed=11"
    a, ca = through(spec, [len(DATA)])
    b, cb = through(spec, [7, 1000, 3, len(DATA) - 1010])
    c, _ = through(spec.replace("seed=11", "seed=12"), [len(DATA)])
    assert a == b and ca == cb
    assert a != c and a != DATA
    for key in ("dropped", "flipped", "duplicated", "garbage_bursts"):
        assert ca[key] > 0, key


def test_rates_come_out_near_the_requested_probability():
    _, counts = through("drop=0.01,seed=5", [len(DATA)])
    expected = 0.01 * counts["bytes"]  # bytes counts both directions of the loop
    assert 0.7 * expected < counts["dropped"] < 1.3 * expected


def test_cut_happens_after_the_byte_count_and_only_as_often_as_asked():
    faults = LinkFaults("cut_after=1000,cuts=2")
    port = faults.wrap(loop_port())
    with pytest.raises(LinkCut):
        for _ in range(100):
            port.write(DATA[:100])
    with pytest.raises(LinkCut):
        port.read(1)  # stays cut
    port = faults.wrap(loop_port())
    with pytest.raises(LinkCut):
        for _ in range(100):
            port.write(DATA[:100])
    port = faults.wrap(loop_port())
    for _ in range(100):  # both cuts used up
        port.write(DATA[:100])
    assert faults.counts.cuts == 2


def test_a_spec_with_a_baud_paces_the_faulty_port_like_the_throttle():
    # No clock assertions: ask the wire model what has arrived at given instants.
    port = LinkFaults("baud=100000,seed=1").wrap(loop_port())
    port._port.write(b"x" * 500)
    assert port._pull(0)
    start = port._wire[0][0]
    byte_s = 10 / 100000
    assert port._ready(start + 100.5 * byte_s) == 100
    assert port._ready(start + 10) == 500


def test_a_delay_stalls_the_wire_before_the_byte():
    faults = LinkFaults("delay=1,delay_ms=5000")  # every byte: five seconds' stall
    port = faults.wrap(loop_port())
    port._port.write(b"ab")
    assert port._pull(0)
    first = port._wire[0][0]
    assert port._ready(first - 0.001) == 0
    assert port._ready(first) == 1
    assert port._wire[1][0] - first >= 5.0  # the second byte waits out its own stall
    assert faults.counts.delayed == 2
