"""Sharding vectors across devices, with fake devices that answer like firmware.

Where an ordering matters (a device failing while another waits), the fakes hold
each other back with threading.Events, each wait bounded, never with sleeps.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from hil.device.counts import count_source
from hil.device.session import LayerResult
from hil.errors import (
    DeviceError,
    DeviceGone,
    DeviceReset,
    ImageChanged,
    LinkBroken,
    LinkTimeout,
    WatchdogReset,
)
from hil.model.examples import build_example
from hil.model.inputs import generated_inputs
from hil.reference.network import run_network
from hil.validate import sharded
from hil.validate.compare import crc32
from hil.validate.run_report import DeviceFailure, RunInfo, RunReport
from hil.validate.sharded import check_sharded

WAIT = 10  # seconds: a bound on every wait for another thread, never reached when all is well


def _wait(event: threading.Event, what: str) -> None:
    if not event.wait(WAIT):
        raise AssertionError(f"gave up waiting for {what}")


class FakeSession:
    """Computes the right answer with the reference; can corrupt or fail on request.

    ``fail_on``: the call (1 = the first) that raises ``error`` instead, or "always".
    ``before``: events this device waits for when a call starts; ``started`` is set
    when a call starts, ``failed`` just before the failing call raises.
    """

    def __init__(self, network, *, fail_on=None, corrupt_layer=None, error=None, before=()):
        self.network = network
        self.fail_on = fail_on
        self.error = error or DeviceError("link lost")
        self.corrupt_layer = corrupt_layer
        self.before = before
        self.started, self.failed = threading.Event(), threading.Event()
        self.seen = []
        self.ahead = []  # the vector sent ahead with each call
        self.failed_on = []  # the vectors whose call raised
        self.threads = set()

    def infer(self, x, dump="all", next_x=None, expected_crcs=None):
        self.threads.add(threading.get_ident())
        self.seen.append(x.tobytes())
        self.ahead.append(None if next_x is None else next_x.tobytes())
        self.started.set()
        for event, what in self.before:
            _wait(event, what)
        if self.fail_on == "always" or len(self.seen) == self.fail_on:
            self.failed_on.append(x.tobytes())
            self.failed.set()
            raise self.error
        outs = run_network(self.network, x, "dsp")
        results = []
        for i, out in enumerate(outs):
            if i == self.corrupt_layer:
                out = out.copy()
                out[0] ^= 1
            results.append(LayerResult(i, out if dump == "all" else None, crc32(out), 100 + i, 0))
        return results


def _setup(n_vectors=6):
    net = build_example("lenet5")
    x = generated_inputs(net, n_vectors, seed=5)
    report = RunReport(
        net,
        RunInfo(
            net.name,
            "fake",
            "dsp",
            "portable",
            count_source("dwt", emulated=False, icount_shift=None),
        ),
        vectors_requested=n_vectors,
    )
    return net, x, report


def _device(session, name=None):
    if name is None:
        return SimpleNamespace(session=session)  # no name: labelled by position
    return SimpleNamespace(session=session, name=name)


def _index(x, seen: bytes) -> int:
    return next(i for i, v in enumerate(x) if v.tobytes() == seen)


def test_every_vector_is_checked_once_across_devices():
    net, x, report = _setup()
    a, b = FakeSession(net), FakeSession(net)
    seen = []
    check_sharded([_device(a), _device(b)], net, x, report, variant="dsp", on_vector=seen.append)
    assert sorted(seen) == list(range(len(x)))
    assert len(a.seen) + len(b.seen) == len(x)
    assert sorted(a.seen + b.seen) == sorted(v.tobytes() for v in x)
    assert a.threads.isdisjoint(b.threads)
    assert report.passed and report.vectors_done == len(x)


def test_a_bad_device_is_caught_in_the_merged_report():
    net, x, report = _setup(4)
    check_sharded(
        [_device(FakeSession(net, corrupt_layer=3))], net, x, report, variant="dsp", dump="mismatch"
    )
    assert not report.passed
    assert report.first_bad_layer().index == 3
    assert report.layers[3].mismatching_elements == len(x)  # re-fetched in full
    assert 3 in report.diffs  # the heatmap's tensors were kept


def test_a_device_error_stops_the_run_and_keeps_what_was_judged():
    net, x, report = _setup(6)
    with pytest.raises(DeviceError, match="link lost"):
        check_sharded([_device(FakeSession(net, fail_on=3))], net, x, report, variant="dsp")
    assert report.vectors_done == 2


def test_one_device_still_gets_the_next_vector_ahead_and_its_loss_ends_the_run():
    net, x, report = _setup(5)
    dev = FakeSession(net, fail_on=3, error=DeviceGone("the device is gone: QEMU exited"))
    with pytest.raises(DeviceGone, match="QEMU exited"):
        check_sharded([_device(dev)], net, x, report, variant="dsp")
    assert dev.ahead == [x[1].tobytes(), x[2].tobytes(), x[3].tobytes()]
    assert report.vectors_done == 2 and not report.complete
    assert report.device_failures == [
        DeviceFailure("device0", 2, "the device is gone: QEMU exited", False)
    ]


BENCH_FAILURES = [
    DeviceGone("the device is gone: QEMU was killed by SIGKILL (status -9)"),
    LinkTimeout("no answer from the device within 5.0 s"),
    DeviceReset("the device announced itself again in the middle of a request"),
    ImageChanged("after a resync the device runs another image"),
    LinkBroken("writing to the device failed: [Errno 32] Broken pipe"),
    OSError(5, "Input/output error"),
]


@pytest.mark.parametrize("error", BENCH_FAILURES, ids=lambda e: type(e).__name__)
def test_a_lost_device_hands_its_vector_to_the_others(error):
    net, x, report = _setup(6)
    lost = FakeSession(net, fail_on=2, error=error)
    # The others start only once it has failed, so it surely gets a second vector.
    b = FakeSession(net, before=[(lost.failed, "place-a to fail")])
    c = FakeSession(net, before=[(lost.failed, "place-a to fail")])
    judged = []
    devices = [_device(lost, "place-a"), _device(b, "place-b"), _device(c)]
    check_sharded(devices, net, x, report, variant="dsp", on_vector=judged.append)

    assert sorted(judged) == list(range(len(x)))  # every vector judged, each once
    assert report.passed and report.vectors_done == len(x)
    assert len(lost.seen) == 2  # it took no vector after its failure
    (failed,) = [_index(x, v) for v in lost.failed_on]
    assert report.device_failures == [DeviceFailure("place-a", failed, str(error), True)]
    assert x[failed].tobytes() in b.seen + c.seen  # re-run on another device
    assert report.device_vectors == {"place-a": 1, "place-b": len(b.seen), "device2": len(c.seen)}
    assert report.to_dict()["devices"][0] == {"name": "place-a", "vectors": 1, "failed": str(error)}


def test_when_every_device_is_lost_the_last_error_is_raised_and_the_run_is_incomplete():
    net, x, report = _setup(4)
    a = FakeSession(net, fail_on="always", error=DeviceGone("the device is gone: a"))
    b = FakeSession(net, fail_on="always", error=LinkTimeout("no answer from b"))
    with pytest.raises((DeviceGone, LinkTimeout)) as raised:
        check_sharded([_device(a), _device(b)], net, x, report, variant="dsp")
    assert report.vectors_done == 0 and not report.complete and report.verdict == "incomplete"
    handed_on, last = sorted(report.device_failures, key=lambda f: not f.rerun)
    assert handed_on.rerun and not last.rerun
    assert str(raised.value) == last.error  # the last device working: its error ends the run
    assert {handed_on.device, last.device} == {"device0", "device1"}


@pytest.mark.parametrize(
    "error",
    [WatchdogReset("the watchdog expired"), DeviceError("the probe reports a fault"), KeyError(7)],
    ids=lambda e: type(e).__name__,
)
def test_any_other_error_stops_every_device_and_is_raised(error):
    net, x, report = _setup(3)
    bad = FakeSession(net, fail_on=1, error=error)
    others = [FakeSession(net, before=[(bad.failed, "device0 to fail")]) for _ in range(2)]
    # Each device holds a vector when device0 fails: none is left in the pool.
    bad.before = [(s.started, "the others to take a vector") for s in others]
    devices = [_device(s) for s in (bad, *others)]
    judged = []
    with pytest.raises(type(error)):
        check_sharded(devices, net, x, report, variant="dsp", on_vector=judged.append)
    assert report.device_failures == []
    failed = _index(x, bad.failed_on[0])
    assert failed not in judged and len(judged) == 2  # its vector went to nobody
    assert [len(s.seen) for s in others] == [1, 1]
    assert not report.complete


def test_a_vector_handed_back_after_the_other_found_the_pool_empty_is_still_judged(monkeypatch):
    waiting = threading.Event()

    class WatchedCondition(threading.Condition):
        """Says when a worker waits: the pool is empty and a vector is out."""

        def wait(self, timeout=None):
            waiting.set()
            return super().wait(timeout)

    monkeypatch.setattr(sharded, "Condition", WatchedCondition)
    net, x, report = _setup(2)
    lost = FakeSession(
        net, fail_on=1, error=LinkTimeout("no answer"), before=[(waiting, "device1 to wait")]
    )
    other = FakeSession(net, before=[(lost.started, "device0 to take the other vector")])
    judged = []
    check_sharded(
        [_device(lost), _device(other)], net, x, report, variant="dsp", on_vector=judged.append
    )
    assert sorted(judged) == [0, 1] and report.passed
    failed = _index(x, lost.failed_on[0])
    assert report.device_failures == [DeviceFailure("device0", failed, "no answer", True)]
    assert sorted(other.seen) == sorted(v.tobytes() for v in x)
    assert report.device_vectors == {"device0": 0, "device1": 2}
