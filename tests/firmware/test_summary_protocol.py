"""SUMMARY runs, DETAIL, quiet and zero-run coded inputs on the real firmware
(host build, with AddressSanitizer and UBSan)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from hil.device.session import DeviceSession
from hil.errors import ProtocolError
from hil.model.examples import build_example
from hil.model.inputs import generated_inputs
from hil.protocol import generated as g
from hil.protocol.frames import Frame
from hil.protocol.input_coding import ZERO_RUN, zero_run_decode, zero_run_encode
from hil.protocol.link import Link
from hil.protocol.messages import pack, unpack
from hil.protocol.summary import DELTA, FULL, decode_result, layers_digest
from hil.reference.network import run_network
from hil.validate.compare import crc32

from helpers import hostfw

pytestmark = pytest.mark.needs_gcc
SUMMARY = g.ENUMS["dump"]["SUMMARY"]
QUIET = g.ENUMS["frame_flag"]["QUIET"]


@pytest.fixture(scope="module")
def lenet5():
    return build_example("lenet5")


@pytest.fixture(scope="module")
def fw(lenet5, tmp_path_factory):
    return hostfw.build_host_firmware(
        lenet5, tmp_path_factory.mktemp("summary"), name="summary", sanitize=True
    )


@pytest.fixture
def link(fw):
    with hostfw.HostDevice(fw) as dev:
        link = Link.open(dev.url, timeout=5)
        link.request(g.MSG_HELLO_REQ, expect={g.MSG_HELLO})
        yield link
        link.close()


def _load(link: Link, data: bytes, flags: int = 0) -> None:
    ack = link.request(
        g.MSG_LOAD_INPUT, pack("chunk", offset=0) + data, expect={g.MSG_ACK}, flags=flags
    )
    assert unpack("ack", ack.payload)[0]["status"] == 0


def _run(link: Link, layers: int, base=None, seq=None):
    """A SUMMARY RUN (with ``seq``: sent again under that seq); (seq, Summary, coding)."""
    payload = pack("run", dump=SUMMARY, base=base[0] if base else 0)
    if seq is None:
        frame = link.request(g.MSG_RUN, payload, expect={g.MSG_RESULT})
    else:
        link.send(Frame(g.MSG_RUN, seq, payload))
        frame = link.receive(5, "RESULT")
    summary = decode_result(frame.payload, num_layers=layers, base=base[1] if base else None)
    return frame.seq, summary, frame.payload[8]


def test_a_summary_run_digests_every_layer_the_reference_computes(link, lenet5):
    x = generated_inputs(lenet5, 1, seed=3)[0]
    _load(link, x.tobytes())
    _, s, coding = _run(link, len(lenet5.layers))
    expected = run_network(lenet5, x, "plain")
    assert s.input_crc32 == zlib.crc32(x.tobytes())
    assert s.digest == layers_digest([crc32(e) for e in expected])
    assert s.layers_run == len(lenet5.layers) and s.status == 0
    assert coding == FULL and len(s.ticks) == len(lenet5.layers)  # no base named


def test_a_run_sent_again_is_answered_from_what_the_device_holds(link, lenet5):
    """A host build counts nanoseconds: a second computation would differ."""
    _load(link, generated_inputs(lenet5, 1, seed=4)[0].tobytes())
    seq, first, _ = _run(link, len(lenet5.layers))
    again_seq, again, _ = _run(link, len(lenet5.layers), seq=seq)
    assert again_seq == seq and again == first
    # A new RUN computes again, and codes its counts against the one the host holds.
    _, fresh, coding = _run(link, len(lenet5.layers), base=(seq, first.ticks))
    assert coding == DELTA and fresh.digest == first.digest and fresh.ticks != first.ticks


def test_detail_sends_the_held_runs_layer_digests_and_refuses_any_other(link, lenet5):
    x = generated_inputs(lenet5, 1, seed=5)[0]
    _load(link, x.tobytes())
    seq, s, _ = _run(link, len(lenet5.layers))
    frames = list(link.exchange(g.MSG_DETAIL, pack("detail", run_seq=seq), until={g.MSG_RUN_DONE}))
    done = [unpack("layer_done", f.payload)[0] for f in frames if f.type == g.MSG_LAYER_DONE]
    assert [d["layer"] for d in done] == list(range(len(lenet5.layers)))
    assert [d["crc32"] for d in done] == [crc32(e) for e in run_network(lenet5, x, "plain")]
    assert tuple(d["ticks"] for d in done) == s.ticks
    assert all(d["input_crc32"] == s.input_crc32 for d in done)
    with pytest.raises(ProtocolError, match="BAD_REQUEST.*run not held"):
        link.request(g.MSG_DETAIL, pack("detail", run_seq=seq + 100), expect={g.MSG_RUN_DONE})


def test_quiet_chunks_get_no_ack_and_the_result_names_their_input(link, lenet5):
    x = generated_inputs(lenet5, 1, seed=6)[0].tobytes()
    link.send(Frame(g.MSG_LOAD_INPUT, link.next_seq(), pack("chunk", offset=0) + x, QUIET))
    _, s, _ = _run(link, len(lenet5.layers))  # the first frame back is the RESULT
    assert s.input_crc32 == zlib.crc32(x)


def test_the_firmware_decodes_zero_runs_as_the_host_does(link, lenet5):
    rng = np.random.default_rng(7)
    for _ in range(20):
        data = bytes(rng.choice([0, 0, 0, 9, 200], size=lenet5.input_size).astype(np.uint8))
        coded = zero_run_encode(data)
        assert zero_run_decode(coded, len(data)) == data
        _load(link, coded, ZERO_RUN)
        _, s, _ = _run(link, len(lenet5.layers))
        assert s.input_crc32 == zlib.crc32(data)


@pytest.mark.parametrize(
    "coded", [bytes([0x05, 1, 2]), bytes([0xFF]) * 7, bytes([0x7F]) + bytes(100)]
)
def test_a_zero_run_chunk_that_does_not_fit_is_refused(link, lenet5, coded):
    """Cut short, or decoding past the input's 784 bytes."""
    with pytest.raises(ProtocolError, match="OUT_OF_RANGE.*zero-run"):
        link.request(
            g.MSG_LOAD_INPUT,
            pack("chunk", offset=lenet5.input_size - 50) + coded,
            expect={g.MSG_ACK},
            flags=ZERO_RUN,
        )


def test_the_session_uses_one_result_per_matching_vector(fw, lenet5):
    xs = generated_inputs(lenet5, 4, seed=8)
    with hostfw.HostDevice(fw) as dev:
        link = Link.open(dev.url, timeout=5)
        try:
            session = DeviceSession(link)
            session.hello()
            for i, x in enumerate(xs):
                expected = [crc32(e) for e in run_network(lenet5, x, "plain")]
                ahead = xs[i + 1] if i + 1 < len(xs) else None
                results = session.infer(x, "digest", ahead, expected_crcs=expected)
                assert [r.crc32 for r in results] == expected
            # A wrong expectation costs a DETAIL, and the device's own digests come back.
            wrong = [c ^ 1 for c in expected]
            results = session.infer(xs[-1], "digest", expected_crcs=wrong)
            assert [r.crc32 for r in results] == expected
        finally:
            link.close()
    assert session.stats.reruns == 0 and link.stats.retransmissions == 0
