"""Sharding vectors across devices, with fake devices that answer like firmware."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from hil.device.counts import count_source
from hil.device.session import LayerResult
from hil.errors import DeviceError
from hil.model.examples import build_example
from hil.model.inputs import generated_inputs
from hil.reference.network import run_network
from hil.validate.compare import crc32
from hil.validate.run_report import RunInfo, RunReport
from hil.validate.sharded import check_sharded


class FakeSession:
    """Computes the right answer with the reference; can corrupt or fail on request."""

    def __init__(self, network, *, fail_on=None, corrupt_layer=None):
        self.network = network
        self.fail_on = fail_on
        self.corrupt_layer = corrupt_layer
        self.seen = []
        self.threads = set()

    def infer(self, x, dump="all", next_x=None):
        self.threads.add(threading.get_ident())
        self.seen.append(x.tobytes())
        if self.fail_on is not None and len(self.seen) == self.fail_on:
            raise DeviceError("link lost")
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
    )
    return net, x, report


def _device(session):
    return SimpleNamespace(session=session)


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
