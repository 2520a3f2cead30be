"""Throughput of validation on a device: what the link costs, per vector.

For each baud rate (paced by the link throttle, 10 bits per byte, the way a
bench UART would move them) and dump mode, vectors are validated exactly as
``hil run`` does (device run + host reference + per-layer verdicts), and the
wall time per vector is set against the ideal: the input's bytes at that
baud rate plus the device's compute time. Bytes on the wire are split by
what they carry (hil.transport.wire_tap).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from hil.bench.reference import bench_network
from hil.config.boards import Board
from hil.device.connect import open_device, prepare_image
from hil.device.shard import open_devices
from hil.model import Network
from hil.model.inputs import generated_inputs
from hil.text import plural
from hil.transport.faults import BITS_PER_BYTE, FaultSpec, LinkFaults
from hil.transport.wire_tap import CATEGORIES, WireAccount, WireTap
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

    @property
    def ratio(self) -> float:
        return self.seconds / self.ideal

    @property
    def per_second(self) -> float:
        return 1.0 / self.seconds

    def floor(self, base: "Baseline") -> float:
        """The ideal on this emulator: its UART takes input no faster than receive_s."""
        return max(self.ideal - base.compute_s, base.receive_s) + base.compute_s


@dataclass(frozen=True)
class Baseline:
    compute_s: float  # device compute per vector (emulator wall time, no transfers)
    receive_s: float  # the emulator's own time to take in one input, unthrottled
    reference_s: float  # host reference per vector
    input_bytes: int


def measure_compute(
    board: Board, image, network: Network, vectors: np.ndarray, log_dir: Path
) -> tuple[float, float]:
    """Median wall times, unthrottled, of loading one input and of the compute alone."""
    times, loads = [], []
    with open_device(board, image, log_dir=log_dir) as dev:
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
    board: Board,
    image,
    network: Network,
    vectors: np.ndarray,
    *,
    baud: int,
    dump: str,
    baseline: Baseline,
    log_dir: Path,
) -> LinkRow:
    tap = WireTap()
    faults = LinkFaults(FaultSpec(baud=baud))
    times = []
    with open_device(board, image, log_dir=log_dir, link_faults=faults, link_wrap=tap.wrap) as dev:
        tap.reset()
        for i, x in enumerate(vectors):
            t0 = time.perf_counter()
            ahead = vectors[i + 1] if i + 1 < len(vectors) else None
            verdicts = check_vector(
                dev.session, network, i, x, variant=dev.info.variant, dump=dump, next_x=ahead
            )
            times.append(time.perf_counter() - t0)
            assert all(v.matched for v in verdicts), "benchmark vectors must validate"
    ideal = baseline.input_bytes * BITS_PER_BYTE / baud + baseline.compute_s
    return LinkRow(
        baud, dump, len(vectors), statistics.median(times), ideal, tap.account().per(len(vectors))
    )


def measure_shards(
    board: Board, image, network: Network, vectors: np.ndarray, devices: int, log_dir: Path
) -> float:
    """Validated vectors per second with ``devices`` emulators sharing the vectors."""
    with open_devices(board, image, devices, log_dir=log_dir) as devs:
        info = devs[0].info
        report = RunReport(
            network, RunInfo(network.name, board.id, info.variant, info.backend, devs[0].counts)
        )
        t0 = time.perf_counter()
        check_sharded(devs, network, vectors, report, variant=info.variant, dump="mismatch")
        elapsed = time.perf_counter() - t0
    assert report.passed
    return len(vectors) / elapsed


def run_link_bench(
    board: Board,
    network: Network,
    *,
    bauds=DEFAULT_BAUDS,
    vectors: int = 4,
    full_vectors: int = 2,
    build_root: Path,
    seed: int = 0,
    progress=None,
) -> tuple[Baseline, list[LinkRow]]:
    say = progress or (lambda _m: None)
    image = prepare_image(board, network, build_root=build_root)
    log_dir = build_root / "logs" / "bench"
    x = generated_inputs(network, vectors, seed)
    say("measuring device compute")
    receive, compute = measure_compute(board, image, network, x, log_dir)
    reference = bench_network(network, repeat=50, warmup=3).median_ms / 1e3
    base = Baseline(compute, receive, reference, network.input_size)
    rows = []
    for baud in bauds:
        for dump in ("all", "mismatch"):
            n = full_vectors if dump == "all" else vectors
            say(f"{baud} baud, dump {dump}: {plural(n, 'vector')}")
            rows.append(
                measure_link(
                    board,
                    image,
                    network,
                    x[:n],
                    baud=baud,
                    dump=dump,
                    baseline=base,
                    log_dir=log_dir,
                )
            )
    return base, rows


def render_link_bench(
    board: Board, network: Network, base: Baseline, rows: list[LinkRow], console: Console
) -> None:
    t = Table(
        title=f"validation throughput: {network.name} on {board.id} "
        f"(link throttled to the baud rate, 10 bits per byte)"
    )
    for col in (
        "baud",
        "dump",
        "vectors/s",
        "s/vector",
        "ideal s/vector",
        "ratio",
        "ratio to emulator floor",
        "wire B/vector",
        "input",
        "outputs",
        "digests",
        "acks",
        "control",
        "framing",
        "s beyond wire + compute",
    ):
        t.add_column(col, justify="right")
    for r in rows:
        to_dev = sum(r.wire.to_device.values()) * BITS_PER_BYTE / r.baud
        to_host = sum(r.wire.to_host.values()) * BITS_PER_BYTE / r.baud
        overhead = r.seconds - (to_dev + to_host) - base.compute_s
        cells = [f"{r.wire.to_device[c] + r.wire.to_host[c]:,.0f}" for c in CATEGORIES]
        t.add_row(
            f"{r.baud:,}",
            "digest" if r.dump == "mismatch" else r.dump,
            f"{r.per_second:.2f}",
            f"{r.seconds:.3f}",
            f"{r.ideal:.3f}",
            f"{r.ratio:.2f}x",
            f"{r.seconds / r.floor(base):.2f}x",
            f"{r.wire.total:,.0f}",
            *cells,
            f"{overhead:.3f}",
        )
    console.print(t)
    console.print(
        f"emulator UART takes in one input in {base.receive_s * 1e3:.0f} ms unthrottled "
        "(the emulator floor: ideal = max(input at baud, this) + compute)"
    )
    console.print(
        f"device compute {base.compute_s * 1e3:.1f} ms per vector (emulator wall time); "
        f"host reference {base.reference_s * 1e3:.2f} ms per vector; "
        f"input {base.input_bytes:,} B"
    )
