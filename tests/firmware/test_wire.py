"""Wire accounting over a real host build of the firmware."""

from __future__ import annotations

import pytest

from hil.device.session import DeviceSession
from hil.model.examples import build_example
from hil.model.inputs import generated_inputs
from hil.protocol.link import Link
from hil.transport.wire_tap import WireTap
from hil.validate.compare import crc32

from helpers import hostfw

pytestmark = pytest.mark.needs_gcc


@pytest.fixture(scope="module")
def lenet(tmp_path_factory):
    net = build_example("lenet5")
    return net, hostfw.build_host_firmware(net, tmp_path_factory.mktemp("wire"), name="wire")


def _account(exe, net, dump):
    tap = WireTap()
    x = generated_inputs(net, 1, seed=1)[0]
    with hostfw.HostDevice(exe) as dev:
        link = Link.open(dev.url, timeout=10, wrap=tap.wrap)
        try:
            session = DeviceSession(link)
            session.hello()
            tap.reset()
            # As hil run does: the reference's digests go with a digest run.
            expected = [crc32(e) for e in _reference(net, x)]
            results = session.infer(x, dump=dump, expected_crcs=expected)
        finally:
            link.close()
    assert [r.crc32 for r in results] == expected or dump == "none"
    return tap.account()


def test_full_dump_carries_every_output_byte_and_the_input(lenet):
    net, exe = lenet
    acc = _account(exe, net, "all")
    assert acc.to_device["input"] == net.input_size
    assert acc.to_host["outputs"] == sum(layer.output_size for layer in net.layers)
    assert acc.unparsed == 0
    assert acc.to_host["framing"] > 0 and acc.to_device["acks"] == 0


def test_digest_mode_sends_no_tensor_bytes(lenet):
    net, exe = lenet
    full = _account(exe, net, "all")
    digest = _account(exe, net, "digest")
    assert digest.to_host["outputs"] == 0
    # One RESULT frame instead of a LAYER_DONE per layer and a RUN_DONE.
    assert 0 < digest.to_host["results"] < full.to_host["results"] / 4
    assert digest.to_device["input"] == full.to_device["input"] == net.input_size
    assert digest.to_host["acks"] == 0 < full.to_host["acks"]  # quietly, against acknowledged
    assert digest.total < full.total / 3


def test_a_digest_run_that_matches_costs_one_small_frame_each_way(lenet):
    """With the reference's digests the host needs nothing but the RESULT."""
    net, exe = lenet
    acc = _account(exe, net, "digest")
    # One RESULT with the counts in full (a host build's ticks are nanoseconds,
    # different every run), no ACK, no per-layer frame.
    assert acc.to_host["results"] < 4 * len(net.layers) and acc.to_host["control"] == 0
    assert acc.to_device["acks"] == acc.to_host["acks"] == 0
    # Input frame, RUN and RESULT: a fixed cost of under 100 bytes a vector,
    # whatever the model (for CIFAR-10's 3,072-byte input, under 3%).
    assert acc.total - net.input_size < 100


def _reference(net, x):
    from hil.reference.network import run_network

    return run_network(net, x, "plain")


def test_the_next_input_sent_ahead_is_not_uploaded_again(lenet):
    net, exe = lenet
    x = generated_inputs(net, 3, seed=4)
    tap = WireTap()
    with hostfw.HostDevice(exe) as dev:
        link = Link.open(dev.url, timeout=10, wrap=tap.wrap)
        try:
            session = DeviceSession(link)
            session.hello()
            first = session.infer(x[0], dump="digest", next_x=x[1])
            tap.reset()
            second = session.infer(x[1], dump="all")
            acc = tap.account()
            third = session.infer(x[2], dump="all")  # nothing was sent ahead: uploads
        finally:
            link.close()
    assert acc.to_device["input"] == 0  # x[1] went ahead during the first run
    assert session.stats.reruns == 0
    for results, v in ((second, x[1]), (third, x[2])):
        assert all((r.output == want).all() for r, want in zip(results, _reference(net, v)))
    assert len(first) == len(net.layers)


def test_a_wrong_claim_of_a_preloaded_input_is_caught_and_repaired(lenet):
    import zlib

    net, exe = lenet
    x = generated_inputs(net, 3, seed=5)
    with hostfw.HostDevice(exe) as dev:
        link = Link.open(dev.url, timeout=10)
        try:
            session = DeviceSession(link)
            session.hello()
            session.infer(x[0], dump="digest", next_x=x[1])
            # Pretend x[2] went ahead: the device really holds x[1].
            session._preloaded = zlib.crc32(x[2].tobytes())
            results = session.infer(x[2], dump="all")
        finally:
            link.close()
    assert session.stats.reruns >= 1  # the run on x[1] was thrown away
    assert all((r.output == want).all() for r, want in zip(results, _reference(net, x[2])))
