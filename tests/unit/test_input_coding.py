"""Zero-run input coding and the RESULT frame's codec, host side."""

from __future__ import annotations

import numpy as np
import pytest

from hil.errors import ProtocolError
from hil.model.datasets import load_dataset
from hil.model.float_inputs import quantise_inputs
from hil.model.io import load_model
from hil.protocol import generated as g
from hil.protocol.input_coding import ZERO_RUN, input_chunks, zero_run_decode, zero_run_encode
from hil.protocol.messages import size, unpack
from hil.protocol.summary import (
    DELTA,
    FULL,
    SAME,
    STOPPED,
    decode_result,
    encode_result,
    layers_digest,
)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\x05", b"\x00" * 300, b"\x01" * 300, b"\x00\x01\x00\x02\x00\x00\x03"],
)
def test_zero_run_round_trips_edge_cases(data):
    assert zero_run_decode(zero_run_encode(data), len(data)) == data


def test_zero_run_round_trips_random_sparse_data():
    rng = np.random.default_rng(3)
    for _ in range(500):
        n = int(rng.integers(0, 2000))
        data = bytes(rng.choice([0, 0, 0, 0, 1, 127, 128, 255], size=n).astype(np.uint8))
        coded = zero_run_encode(data)
        assert zero_run_decode(coded, n) == data
        assert len(coded) <= n + (n + 127) // 128  # a literal token per 128 bytes at worst


def test_tokens_are_the_documented_ones():
    assert zero_run_encode(bytes(4) + b"\x02\x05\x00\x07" + bytes(17)) == bytes(
        [0x83, 3, 2, 5, 0, 7, 0x90]
    )
    assert zero_run_encode(bytes(200)) == bytes([0xFF, 0x80 + 71])


@pytest.mark.parametrize(
    "coded, limit, match",
    [(b"\x03\x01", 10, "cut short"), (b"\x85", 5, "beyond 5"), (b"\x01\x01\x01", 1, "beyond 1")],
)
def test_zero_run_decode_refuses_what_the_firmware_refuses(coded, limit, match):
    with pytest.raises(ProtocolError, match=match):
        zero_run_decode(coded, limit)


def test_held_out_mnist_images_shrink_about_fourfold():
    net = load_model("lenet5-mnist")
    x, _ = quantise_inputs(load_dataset("mnist-test").x, net)
    sizes = [len(zero_run_encode(v.tobytes())) for v in x]
    assert np.mean(sizes) < 0.3 * net.input_size
    assert max(sizes) < 0.5 * net.input_size


def test_random_inputs_go_raw_at_no_cost():
    data = np.random.default_rng(1).integers(-128, 128, 3072, dtype=np.int8).tobytes()
    (chunk,) = input_chunks(data, g.MAX_PAYLOAD - size("chunk"))
    assert chunk.flags == 0 and chunk.payload[size("chunk") :] == data


def test_a_sparse_input_goes_in_one_coded_frame():
    data = bytes(3000) + b"\x01\x02" + bytes(3000)
    (chunk,) = input_chunks(data, 1020)
    assert chunk.flags == ZERO_RUN and chunk.raw_bytes == len(data)
    assert zero_run_decode(chunk.payload[size("chunk") :], len(data)) == data


def test_chunks_that_do_not_fit_one_frame_each_code_their_own_range():
    rng = np.random.default_rng(2)
    data = bytes(rng.integers(1, 256, 600, dtype=np.uint8)) + bytes(600)
    chunks = input_chunks(data, 300)
    offsets = [unpack("chunk", c.payload, exact=False)[0]["offset"] for c in chunks]
    assert offsets == [0, 300, 600, 900]
    assert [c.coded for c in chunks] == [False, False, True, True]
    rebuilt = b"".join(
        zero_run_decode(c.payload[4:], 300) if c.coded else c.payload[4:] for c in chunks
    )
    assert rebuilt == data


# -- RESULT --------------------------------------------------------------------------


def test_result_with_the_base_counts_is_nine_bytes():
    payload = encode_result(7, [1, 2, 3], [10, 20, 30], num_layers=3, base=[10, 20, 30])
    assert len(payload) == size("result") == 9
    s = decode_result(payload, num_layers=3, base=[10, 20, 30])
    assert (s.input_crc32, s.digest, s.ticks) == (7, layers_digest([1, 2, 3]), (10, 20, 30))
    assert unpack("result", payload)[0]["coding"] == SAME


def test_result_codes_small_changes_as_deltas_and_the_rest_in_full():
    base = [1000, 2_000_000, 5]
    ticks = [1001, 1_999_999, 5]
    delta = encode_result(1, [0, 0, 0], ticks, num_layers=3, base=base)
    assert delta[8] == DELTA and len(delta) == 9 + 3
    assert decode_result(delta, num_layers=3, base=base).ticks == tuple(ticks)
    full = encode_result(1, [0, 0, 0], ticks, num_layers=3, base=None)
    assert full[8] == FULL
    assert decode_result(full, num_layers=3, base=None).ticks == tuple(ticks)


def test_a_stopped_run_says_where_and_why():
    payload = encode_result(1, [5, 6], [3, 4], num_layers=4, status=-101)
    assert payload[8] & STOPPED
    s = decode_result(payload, num_layers=4, base=None)
    assert (s.layers_run, s.status, s.ticks) == (2, -101, (3, 4))


@pytest.mark.parametrize(
    "payload, base, match",
    [
        (encode_result(1, [1], [5], num_layers=1, base=[5]), None, "does not hold"),
        (encode_result(1, [1], [5], num_layers=1)[:-1], None, "cut short"),
        (encode_result(1, [1], [5], num_layers=1) + b"\x00", None, "after its counts"),
        (encode_result(1, [1, 2], [5, 6], num_layers=3), None, "model has 1"),
    ],
)
def test_a_result_that_does_not_add_up_is_refused(payload, base, match):
    with pytest.raises(ProtocolError, match=match):
        decode_result(payload, num_layers=1, base=base)
