"""The real firmware (host build) behind a noisy, cut link: every vector still
comes back intact and bit-exact, and the recovery is counted."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from hil.device.session import DeviceSession
from hil.errors import DeviceError
from hil.model.examples import build_example
from hil.model.inputs import generated_inputs
from hil.protocol.link import Link
from hil.reference.network import run_network
from hil.transport.faults import LinkFaults

from helpers import hostfw

pytestmark = pytest.mark.needs_gcc


@pytest.fixture(scope="module")
def lenet5():
    return build_example("lenet5")


@pytest.fixture(scope="module")
def fw(lenet5, tmp_path_factory) -> Path:
    return hostfw.build_host_firmware(
        lenet5, tmp_path_factory.mktemp("recovery"), name="fw", sanitize=True
    )


def noisy_session(url: str, spec: str, layers: int) -> tuple[DeviceSession, LinkFaults]:
    faults = LinkFaults(spec)
    link = Link.open(url, timeout=5, resend_after=0.1, wrap=faults.wrap)
    return DeviceSession(link, layer_timeouts=[0.2] * layers), faults


def check_all(session: DeviceSession, network, xs: np.ndarray, dump: str) -> None:
    for x in xs:
        results = session.infer(x, dump=dump)
        expected = run_network(network, x, session.info.variant)
        assert [r.index for r in results] == list(range(len(network.layers)))
        for r, e in zip(results, expected):
            if dump == "all":
                assert np.array_equal(r.output, e.ravel())
            else:
                assert r.output is None and r.crc32 == zlib.crc32(e.tobytes())


@pytest.mark.slow  # over 5 s
@pytest.mark.parametrize("dump, vectors", [("all", 3), ("digest", 6)])
def test_every_vector_survives_drops_flips_dups_garbage_and_cuts(fw, lenet5, dump, vectors):
    spec = "drop=0.002,flip=0.002,dup=0.0005,garbage=0.0005,cut_after=12000,cuts=2,seed=5"
    with hostfw.HostDevice(fw, reconnect=True) as dev:
        session, faults = noisy_session(dev.url, spec, len(lenet5.layers))
        session.hello()
        check_all(session, lenet5, generated_inputs(lenet5, vectors, seed=2), dump)
        stats = session.link_stats()
        session.link.close()
    assert faults.counts.cuts == 2 and stats["reconnects"] == 2
    assert stats["retransmissions"] + stats["reruns"] > 0
    assert stats["damaged_frames"] > 0 and stats["resyncs"] >= 2
    assert faults.counts.dropped and faults.counts.flipped


def test_a_dead_link_gives_a_clear_error_within_the_retry_budget(fw, lenet5):
    with hostfw.HostDevice(fw, reconnect=True) as dev:
        session, _ = noisy_session(dev.url, "drop=0.9,seed=1", len(lenet5.layers))
        session.link.retries = 2
        session.vector_retries = 2
        session.info = None
        with pytest.raises(DeviceError, match="timed out"):
            session.hello()
        session.link.close()


def test_a_vector_that_keeps_failing_names_the_cause(fw, lenet5):
    with hostfw.HostDevice(fw, reconnect=True) as dev:
        session, faults = noisy_session(dev.url, "seed=1", len(lenet5.layers))
        session.hello()
        session.link.retries = 1
        session.vector_retries = 2
        # From now on the device never hears the host.
        object.__setattr__(faults, "spec", faults.spec.__class__(seed=1))
        faults._tx.spec = faults.spec.__class__(drop=1.0)
        x = generated_inputs(lenet5, 1, seed=0)[0]
        with pytest.raises(DeviceError, match="timed out") as info:
            session.infer(x, dump="digest")
        assert info.value.hint
        session.link.close()
