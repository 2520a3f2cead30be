"""Timing of the host reference on a network (``hil bench reference``), as data.

Two measurements: per layer and per inference, one input at a time
(bench_network), and images per second through the batched reference
(bench_batch: run_network_batch on a whole data set, as validation uses it).
Both families go the same way; only the call each layer makes differs (a q7
layer's cached plan, an s8 layer's kernel with its rounding), and so does the
meaning of the variant: the kernel path for q7, the requantisation's rounding
for s8.
"""

from __future__ import annotations

import functools
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np

from hil.errors import ConfigError
from hil.model.layer import Network
from hil.model.s8 import S8Network
from hil.reference._kernel import check_variant
from hil.reference.network import DEFAULT_CHUNK, layer_plan, run_network, run_network_batch
from hil.reference.s8.requantize import ROUNDINGS
from hil.reference.spec import VARIANTS

DEFAULT_REPEAT = 200
DEFAULT_BATCH_REPEAT = 3  # a batch takes seconds: a few runs give a stable median
WARMUP = 10

AnyNetwork = Union[Network, S8Network]
Step = Callable[[np.ndarray], np.ndarray]


def reference_variant(network: AnyNetwork, variant: str | None = None) -> str:
    """``variant`` checked against the network's family (None: the family's default).

    q7 references differ by kernel path (dsp, plain), s8 ones by rounding
    (double, single); the other family's name is refused with the right ones."""
    if isinstance(network, S8Network):
        if variant is None:
            return "double"
        if variant in ROUNDINGS:
            return variant
        what = "a q7 kernel path" if variant in VARIANTS else "not a reference variant"
        raise ConfigError(
            f"--variant {variant} is {what}; {network.name} is an s8 model, whose reference "
            "variant is its requantisation rounding",
            hint="use --variant double (the default) or --variant single",
        )
    if variant is None:
        return "dsp"
    if variant in ROUNDINGS:
        raise ConfigError(
            f"--variant {variant} is an s8 rounding; {network.name} is a q7 model, whose "
            "reference variant is its kernel path",
            hint="use --variant dsp (the default) or --variant plain",
        )
    return check_variant(variant)


def layer_steps(network: AnyNetwork, variant: str) -> list[Step]:
    """Each layer's reference call, made ready so that timing it times the arithmetic:
    a q7 layer's plan is built (and cached), an s8 layer's kernel is bound to its rounding."""
    if isinstance(network, S8Network):
        from hil.reference import s8

        return [
            functools.partial(s8.run_layer, layer, rounding=variant)  # type: ignore[arg-type]
            for layer in network.layers
        ]
    return [layer_plan(layer, variant) for layer in network.layers]


@dataclass(frozen=True)
class BenchResult:
    model: str
    variant: str  # q7: kernel path (dsp, plain); s8: rounding (double, single)
    repeat: int
    layers: tuple[tuple[str, str], ...]  # (layer name, function)
    layer_ms: tuple[tuple[float, ...], ...]  # per layer, one time per repetition
    total_ms: tuple[float, ...]  # per repetition, whole inference
    family: str = "q7"

    @property
    def median_ms(self) -> float:
        return statistics.median(self.total_ms)

    def layer_median_ms(self, i: int) -> float:
        return statistics.median(self.layer_ms[i])


def _timed_inference(steps: list[Step], x: np.ndarray) -> tuple[list[float], float]:
    """One inference with a timestamp between layers (the steps are already made)."""
    clock = time.perf_counter
    start = clock()
    stamps = []
    y = x.reshape(-1)
    for step in steps:
        y = step(y)
        stamps.append(clock())
    edges = [start, *stamps]
    return [(b - a) * 1e3 for a, b in zip(edges, edges[1:])], (stamps[-1] - start) * 1e3


def bench_network(
    network: AnyNetwork,
    repeat: int = DEFAULT_REPEAT,
    variant: str | None = None,
    warmup: int = WARMUP,
    seed: int = 0,
) -> BenchResult:
    """Median timings of ``repeat`` inferences on seeded random inputs after warm-ups.
    ``variant``: the family's (see reference_variant); None is its default."""
    variant = reference_variant(network, variant)
    if repeat < 1:
        raise ConfigError(f"--repeat {repeat} must be at least 1", hint="use e.g. --repeat 200")
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=network.input_size, dtype=np.int8)
    for _ in range(warmup):
        run_network(network, x, variant)  # validates the input and builds the plans
    steps = layer_steps(network, variant)
    per_layer: list[list[float]] = [[] for _ in network.layers]
    totals = []
    for _ in range(repeat):
        times, total = _timed_inference(steps, x)
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
        network.family,
    )


def bench_reference(
    model: str = "cifar10", repeat: int = DEFAULT_REPEAT, variant: str | None = None
) -> BenchResult:
    """``model`` (a built-in example or a model file of either family) timed through
    the host reference."""
    from hil.model.io import load_any_model

    return bench_network(load_any_model(model), repeat=repeat, variant=variant)


@dataclass(frozen=True)
class BatchBenchResult:
    model: str
    variant: str  # q7: kernel path (dsp, plain); s8: rounding (double, single)
    images: int  # per batch
    chunk_size: int
    batch_s: tuple[float, ...]  # wall time of each timed batch
    family: str = "q7"

    @property
    def median_s(self) -> float:
        return statistics.median(self.batch_s)

    @property
    def images_per_second(self) -> float:
        return self.images / self.median_s if self.median_s > 0 else float("inf")


def bench_batch(
    network: AnyNetwork,
    images: int,
    repeat: int = DEFAULT_BATCH_REPEAT,
    variant: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    seed: int = 0,
) -> BatchBenchResult:
    """Median wall time of run_network_batch on ``images`` seeded random inputs.
    ``variant``: the family's (see reference_variant); None is its default."""
    variant = reference_variant(network, variant)
    if images < 1:
        raise ConfigError(f"--batch {images} must be at least 1", hint="use e.g. --batch 1000")
    if repeat < 1:
        raise ConfigError(f"--repeat {repeat} must be at least 1", hint="use e.g. --repeat 3")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ConfigError(
            f"--chunk-size {chunk_size!r} must be at least 1",
            hint=f"use e.g. --chunk-size {DEFAULT_CHUNK}",
        )
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(images, network.input_size), dtype=np.int8)
    run_network_batch(network, x[:chunk_size], variant, chunk_size)  # plans, checks, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run_network_batch(network, x, variant, chunk_size)
        times.append(time.perf_counter() - start)
    return BatchBenchResult(network.name, variant, images, chunk_size, tuple(times), network.family)


def bench_reference_batch(
    model: str = "cifar10",
    images: int = 1000,
    repeat: int = DEFAULT_BATCH_REPEAT,
    variant: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> BatchBenchResult:
    """``model`` (a built-in example or a model file of either family) through the
    batched host reference."""
    from hil.model.io import load_any_model

    return bench_batch(load_any_model(model), images, repeat, variant, chunk_size)
