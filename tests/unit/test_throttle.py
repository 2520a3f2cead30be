"""The baud-rate throttle: bytes take as long as a UART's, both ways."""

from __future__ import annotations

import time

from hil.transport.throttle import BITS_PER_BYTE, ThrottledPort

from helpers.loopback import MemPort

BAUD = 100_000
BYTE_S = BITS_PER_BYTE / BAUD


def test_ten_bits_per_byte():
    assert BITS_PER_BYTE == 10  # start + 8 data + stop: what the bench's "ideal" time assumes


def test_unthrottled_port_passes_bytes_straight_through():
    inner = MemPort()
    port = ThrottledPort(inner)
    assert port.write(b"hello") == 5
    assert inner.writes == [5]  # one write, not sliced
    assert port.read(100) == b"hello"
    port.close()
    assert inner.closed


def test_read_releases_bytes_at_the_line_rate():
    # No clock assertions: ask the wire model what has arrived at given instants.
    inner = MemPort()
    port = ThrottledPort(inner, BAUD)
    inner.write(b"x" * 500)
    assert port._pull(0)
    start = port._wire[0][0]
    assert port._ready(start) == 0
    assert port._ready(start + 100.5 * BYTE_S) == 100
    assert port._ready(start + 10) == 500


def test_taking_part_of_a_piece_moves_its_start_on():
    inner = MemPort()
    port = ThrottledPort(inner, BAUD)
    inner.write(b"abcdef")
    port._pull(0)
    start = port._wire[0][0]
    assert port._take(2) == b"ab"
    assert port._wire[0] == (start + 2 * BYTE_S, b"cdef")


def test_write_blocks_for_the_line_time_and_goes_out_in_slices():
    inner = MemPort()
    port = ThrottledPort(inner, BAUD)
    began = time.monotonic()
    port.write(b"y" * 300)
    assert time.monotonic() - began >= 300 * BYTE_S  # a lower bound only: never flaky
    assert inner.writes == [10] * 30  # 1 ms slices of 10 bytes each


def test_read_with_nothing_to_read_times_out_empty():
    port = ThrottledPort(MemPort(), BAUD)
    port.timeout = 0.01
    assert port.read(10) == b""
    assert port.in_waiting == 0


def test_reset_input_buffer_drops_what_is_on_the_wire():
    inner = MemPort()
    port = ThrottledPort(inner, BAUD)
    inner.write(b"stale")
    port.reset_input_buffer()
    assert inner.buf == b"" and not port._wire
