"""Timing of the host reference on an example network (``hil bench reference``), as data.

Two measurements: per layer and per inference, one input at a time
(bench_network), and images per second through the batched reference
(bench_batch: run_network_batch on a whole data set, as validation uses it).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np

from hil.errors import ConfigError
from hil.model.layer import Network
from hil.reference._kernel import check_variant
from hil.reference.network import DEFAULT_CHUNK, layer_plan, run_network, run_network_batch

DEFAULT_REPEAT = 200
DEFAULT_BATCH_REPEAT = 3  # a batch takes seconds: a few runs give a stable median
WARMUP = 10


@dataclass(frozen=True)
class BenchResult:
    model: str
    variant: str
    repeat: int
    layers: tuple[tuple[str, str], ...]  # (layer name, function)
    layer_ms: tuple[tuple[float, ...], ...]  # per layer, one time per repetition
    total_ms: tuple[float, ...]  # per repetition, whole inference

    @property
    def median_ms(self) -> float:
        return statistics.median(self.total_ms)

    def layer_median_ms(self, i: int) -> float:
        return statistics.median(self.layer_ms[i])


def _timed_inference(network: Network, plans, x: np.ndarray) -> tuple[list[float], float]:
    """One inference with a timestamp between layers (the plans are already built)."""
    clock = time.perf_counter
    start = clock()
    stamps = []
    y = x.reshape(-1)
    for plan in plans:
        y = plan(y)
        stamps.append(clock())
    edges = [start, *stamps]
    return [(b - a) * 1e3 for a, b in zip(edges, edges[1:])], (stamps[-1] - start) * 1e3


def bench_network(
    network: Network,
    repeat: int = DEFAULT_REPEAT,
    variant: str = "dsp",
    warmup: int = WARMUP,
    seed: int = 0,
) -> BenchResult:
    """Median timings of ``repeat`` inferences on seeded random inputs after warm-ups."""
    check_variant(variant)
    if repeat < 1:
        raise ConfigError(f"--repeat {repeat} must be at least 1", hint="use e.g. --repeat 200")
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=network.input_size, dtype=np.int8)
    for _ in range(warmup):
        run_network(network, x, variant)  # validates the input and builds the plans
    plans = [layer_plan(layer, variant) for layer in network.layers]
    per_layer: list[list[float]] = [[] for _ in network.layers]
    totals = []
    for _ in range(repeat):
        times, total = _timed_inference(network, plans, x)
        for acc, t in zip(per_layer, times):
            acc.append(t)
        totals.append(total)
    return BenchResult(
        network.name,
        variant,
        repeat,
        tuple((layer.name, layer.function) for layer in network.layers),
        tuple(tuple(t) for t in per_layer),
        tuple(totals),
    )


def bench_reference(
    model: str = "cifar10", repeat: int = DEFAULT_REPEAT, variant: str = "dsp"
) -> BenchResult:
    """``model`` (a built-in example or a model file) timed through the host reference."""
    from hil.model.io import load_model

    return bench_network(load_model(model), repeat=repeat, variant=variant)


@dataclass(frozen=True)
class BatchBenchResult:
    model: str
    variant: str
    images: int  # per batch
    chunk_size: int
    batch_s: tuple[float, ...]  # wall time of each timed batch

    @property
    def median_s(self) -> float:
        return statistics.median(self.batch_s)

    @property
    def images_per_second(self) -> float:
        return self.images / self.median_s if self.median_s > 0 else float("inf")


def bench_batch(
    network: Network,
    images: int,
    repeat: int = DEFAULT_BATCH_REPEAT,
    variant: str = "dsp",
    chunk_size: int = DEFAULT_CHUNK,
    seed: int = 0,
) -> BatchBenchResult:
    """Median wall time of run_network_batch on ``images`` seeded random inputs."""
    check_variant(variant)
    if images < 1:
        raise ConfigError(f"--batch {images} must be at least 1", hint="use e.g. --batch 1000")
    if repeat < 1:
        raise ConfigError(f"--repeat {repeat} must be at least 1", hint="use e.g. --repeat 3")
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(images, *network.input_shape), dtype=np.int8)
    run_network_batch(network, x[:chunk_size], variant, chunk_size)  # plans, checks, warm caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run_network_batch(network, x, variant, chunk_size)
        times.append(time.perf_counter() - start)
    return BatchBenchResult(network.name, variant, images, chunk_size, tuple(times))


def bench_reference_batch(
    model: str = "cifar10",
    images: int = 1000,
    repeat: int = DEFAULT_BATCH_REPEAT,
    variant: str = "dsp",
    chunk_size: int = DEFAULT_CHUNK,
) -> BatchBenchResult:
    """``model`` (a built-in example or a model file) through the batched host reference."""
    from hil.model.io import load_model

    return bench_batch(load_model(model), images, repeat, variant, chunk_size)
