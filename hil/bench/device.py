"""Throughput of validation on a device: what the link costs, per vector.

For each baud rate (paced by the link throttle, 10 bits per byte, the way a
bench UART would move them) and dump mode, vectors are validated exactly as
``hil run`` does (device run + host reference + per-layer verdicts), and the
wall time per vector is set against the ideal: the input's bytes at that
baud rate plus the device's compute time. Bytes on the wire are split by
what they carry (hil.transport.wire_tap); the input may go zero-run coded,
and each vector's coding ratio is recorded.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, replace

import numpy as np

from hil.bench.reference import bench_network
from hil.device.connect import build, connect
from hil.device.target import Target
from hil.model.inputs import generated_inputs
from hil.protocol import generated as g
from hil.protocol.input_coding import input_chunks
from hil.protocol.messages import size
from hil.text import plural
from hil.transport.faults import FaultSpec, LinkFaults
from hil.transport.throttle import BITS_PER_BYTE
from hil.transport.wire_tap import WireAccount, WireTap
from hil.validate.check import check_vector
from hil.validate.run_report import RunInfo, RunReport
from hil.validate.sharded import check_sharded

DEFAULT_BAUDS = (115200, 921600, 2000000)


@dataclass(frozen=True)
class LinkRow:
    baud: int
    dump: str
    vectors: int
    seconds: float  # median wall time per validated vector
    ideal: float  # input bytes at this baud + device compute
    wire: WireAccount  # bytes per vector
    input_ratios: tuple[float, ...] = ()  # per vector: input bytes as coded / raw

    @property
    def ratio(self) -> float:
        return self.seconds / self.ideal

    @property
    def per_second(self) -> float:
        return 1.0 / self.seconds

    def floor(self, base: "Baseline") -> float:
        """The ideal on this emulator: its UART takes input no faster than receive_s."""
        return max(self.ideal - base.compute_s, base.receive_s) + base.compute_s

    def beyond_wire_s(self, base: "Baseline") -> float:
        """Wall time per vector not spent moving bytes at the baud rate or computing."""
        to_device = sum(self.wire.to_device.values()) * BITS_PER_BYTE / self.baud
        to_host = sum(self.wire.to_host.values()) * BITS_PER_BYTE / self.baud
        return self.seconds - (to_device + to_host) - base.compute_s

    def category_bytes(self, category: str) -> float:
        """Bytes per vector of one wire category (hil.transport.wire_tap), both directions."""
        return self.wire.to_device[category] + self.wire.to_host[category]

    def to_dict(self, base: "Baseline") -> dict:
        return {
            "baud": self.baud,
            "dump": "digest" if self.dump == "mismatch" else self.dump,
            "vectors": self.vectors,
            "seconds_per_vector": self.seconds,
            "vectors_per_second": self.per_second,
            "ideal_seconds_per_vector": self.ideal,
            "ratio": self.ratio,
            "ratio_to_emulator_floor": self.seconds / self.floor(base),
            "seconds_beyond_wire_and_compute": self.beyond_wire_s(base),
            "bytes_per_vector": {
                "total": self.wire.total,
                "to_device": dict(self.wire.to_device),
                "to_host": dict(self.wire.to_host),
                "unparsed": self.wire.unparsed,
                "input_raw": self.wire.input_raw,
                "per_input_byte": self.wire.total / base.input_bytes,
            },
            "input_coding_ratio": self.wire.input_ratio,
            "input_coding_ratio_per_vector": list(self.input_ratios),
        }


@dataclass(frozen=True)
class Baseline:
    compute_s: float  # device compute per vector (emulator wall time, no transfers)
    receive_s: float  # the emulator's own time to take in one input, unthrottled
    reference_s: float  # host reference per vector
    input_bytes: int

    def to_dict(self) -> dict:
        return {
            "compute_seconds": self.compute_s,
            "emulator_input_seconds": self.receive_s,
            "reference_seconds": self.reference_s,
            "input_bytes": self.input_bytes,
        }


def coding_ratio(x: np.ndarray) -> float:
    """Bytes the input goes as on a clean link (zero-run coded or raw) per tensor byte."""
    data = np.ascontiguousarray(x).tobytes()
    chunks = input_chunks(data, g.MAX_PAYLOAD - size("chunk"))
    return sum(len(c.payload) - size("chunk") for c in chunks) / len(data)


def measure_compute(target: Target, image, vectors: np.ndarray) -> tuple[float, float]:
    """Median wall times, unthrottled, of loading one input and of the compute alone."""
    times, loads = [], []
    with connect(replace(target, link_faults=None), image=image) as (dev,):
        for x in vectors:
            t0 = time.perf_counter()
            dev.session.load_input(x)
            t1 = time.perf_counter()
            dev.session.infer(x, dump="digest")
            t2 = time.perf_counter()
            times.append((t2 - t1) - (t1 - t0))
            loads.append(t1 - t0)
    return statistics.median(loads), max(statistics.median(times), 0.0)


def measure_link(
    target: Target,
    image,
    vectors: np.ndarray,
    *,
    baud: int,
    dump: str,
    baseline: Baseline,
) -> LinkRow:
    tap = WireTap()
    network = target.network
    paced = replace(target, link_faults=LinkFaults(FaultSpec(baud=baud)))
    times = []
    with connect(paced, image=image, link_wrap=tap.wrap) as (dev,):
        tap.reset()
        for i, x in enumerate(vectors):
            t0 = time.perf_counter()
            ahead = vectors[i + 1] if i + 1 < len(vectors) else None
            verdicts = check_vector(
                dev.session,
                network,
                i,
                x,
                variant=dev.info.reference_variant,
                dump=dump,
                next_x=ahead,
            )
            times.append(time.perf_counter() - t0)
            assert all(v.matched for v in verdicts), "benchmark vectors must validate"
    ideal = baseline.input_bytes * BITS_PER_BYTE / baud + baseline.compute_s
    return LinkRow(
        baud,
        dump,
        len(vectors),
        statistics.median(times),
        ideal,
        tap.account().per(len(vectors)),
        tuple(coding_ratio(x) for x in vectors),
    )


def measure_shards(target: Target, image, vectors: np.ndarray, devices: int) -> float:
    """Validated vectors per second with ``devices`` emulators sharing the vectors."""
    network = target.network
    with connect(target, image=image, devices=devices) as devs:
        info = devs[0].info
        report = RunReport(
            network,
            RunInfo(
                network.name, target.board.id, info.reference_variant, info.backend, devs[0].counts
            ),
        )
        t0 = time.perf_counter()
        check_sharded(
            devs, network, vectors, report, variant=info.reference_variant, dump="mismatch"
        )
        elapsed = time.perf_counter() - t0
    assert report.passed
    return len(vectors) / elapsed


def _reference_seconds(target: Target) -> float:
    """The host reference's median seconds per inference (the judging cost per vector),
    in the variant the device's outputs are judged with."""
    result = bench_network(target.network, repeat=50, variant=target.reference_variant, warmup=3)
    return result.median_ms / 1e3


def run_link_bench(
    target: Target,
    *,
    bauds=DEFAULT_BAUDS,
    vectors: int = 4,
    full_vectors: int = 2,
    seed: int = 0,
    inputs: np.ndarray | None = None,
    progress=None,
) -> tuple[Baseline, list[LinkRow]]:
    """``inputs`` (int8, one vector per row) are used in order instead of seeded
    random vectors; ``vectors`` of them are measured."""
    say = progress or (lambda _m: None)
    network = target.network
    image = build(target, say=say)
    x = generated_inputs(network, vectors, seed) if inputs is None else inputs[:vectors]
    say("measuring device compute")
    receive, compute = measure_compute(target, image, x)
    reference = _reference_seconds(target)
    base = Baseline(compute, receive, reference, network.input_size)
    rows = []
    for baud in bauds:
        for dump in ("all", "mismatch"):
            n = full_vectors if dump == "all" else vectors
            say(f"{baud} baud, dump {dump}: {plural(n, 'vector')}")
            rows.append(measure_link(target, image, x[:n], baud=baud, dump=dump, baseline=base))
    return base, rows
