"""Framing: COBS + CRC-32, pure bytes in and out."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.errors import ProtocolError
from hil.protocol import generated as g
from hil.protocol.frames import Frame, FrameDecoder, cobs_decode, cobs_encode, decode, encode

payloads = st.binary(max_size=g.MAX_PAYLOAD)
frames = st.builds(Frame, st.integers(0, 255), st.integers(0, 0xFFFF), payloads)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_cobs_round_trip_has_no_zero_bytes(data):
    enc = cobs_encode(data)
    assert 0 not in enc
    assert cobs_decode(enc) == data
    assert len(enc) <= len(data) + len(data) // 254 + 1


@settings(max_examples=200, deadline=None)
@given(frames)
def test_frame_round_trip(frame):
    wire = encode(frame)
    assert wire.endswith(b"\x00") and wire.count(0) == 1
    assert len(wire) <= g.MAX_ENCODED
    assert decode(wire[:-1]) == frame


@settings(max_examples=100, deadline=None)
@given(st.lists(frames, max_size=5), st.integers(1, 300))
def test_decoder_accepts_any_split_of_the_stream(items, step):
    wire = b"".join(encode(f) for f in items)
    dec = FrameDecoder()
    got = []
    for i in range(0, len(wire), step):
        got += dec.feed(wire[i : i + step])
    assert got == items
    assert dec.dropped == 0


def test_crc_is_zlib_crc32_over_header_and_payload():
    wire = encode(Frame(0x11, 0x1234, b"\x00\x01\x02"))
    body = cobs_decode(wire[:-1])
    assert body[:6] == bytes([0x11, 0, 0x34, 0x12, 3, 0])
    assert int.from_bytes(body[-4:], "little") == zlib.crc32(body[:-4])


@pytest.mark.parametrize("payload", [b"", b"\x00" * 40, bytes(range(256)) * 2])
def test_every_damaged_byte_is_detected(payload):
    original = Frame(0x23, 77, payload)
    wire = bytearray(encode(original))
    for pos in range(len(wire) - 1):
        damaged = bytearray(wire)
        damaged[pos] ^= 0x5A
        dec = FrameDecoder()
        assert original not in dec.feed(bytes(damaged)), pos
        # The next intact frame still gets through.
        assert dec.feed(bytes(wire)) == [original], pos


def test_resynchronises_after_garbage():
    good = [Frame(2, 1, b"hello"), Frame(3, 2, b"")]
    dec = FrameDecoder()
    got = dec.feed(
        b"\x7f\x01\x99 noise\x00\x00\x05\x00" + encode(good[0]) + b"junk\x00" + encode(good[1])
    )
    assert got == good
    assert dec.dropped >= 2


def test_oversized_frames_are_dropped_before_buffering():
    dec = FrameDecoder()
    assert dec.feed(b"\x01" * (g.MAX_ENCODED + 10) + b"\x00") == []
    assert dec.dropped == 1 and "longer" in dec.last_error
    assert dec.feed(encode(Frame(4, 9, b"ok"))) == [Frame(4, 9, b"ok")]


def test_length_field_must_match_payload():
    body = bytearray(cobs_decode(encode(Frame(1, 1, b"abc"))[:-1]))
    body[4] = 2  # header.length
    crc = zlib.crc32(bytes(body[:-4])).to_bytes(4, "little")
    with pytest.raises(ProtocolError, match="payload bytes"):
        decode(cobs_encode(bytes(body[:-4]) + crc))


def test_encode_refuses_oversized_payload():
    with pytest.raises(ProtocolError, match="exceeds"):
        encode(Frame(1, 1, bytes(g.MAX_PAYLOAD + 1)))


def test_malformed_cobs_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        cobs_decode(b"\x05ab")
