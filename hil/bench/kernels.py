"""Per-layer counts of hil's portable kernels against a genuine CMSIS-NN, by function.

Models of either family (q7: the legacy ``*_q7`` calls; s8: the int8 ``*_s8``
calls), each built as its own image.

Each model is built and run on the board with the portable kernels and, when
the target names a genuine library (``--cmsis-nn``), again with that library,
on the same seeded vectors. Every layer of every vector is judged bit-exactly
as in ``hil run``: the count of a kernel that computed a wrong answer says
nothing, so any mismatch fails the bench (MismatchError). A layer's count is
its median over the vectors, labelled as the run report labels it
(instructions on an emulator, cycles from the DWT on silicon).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from hil.device.connect import build, connect
from hil.device.counts import CountSource
from hil.device.target import Target
from hil.errors import DeviceError, MismatchError
from hil.model.inputs import generated_inputs
from hil.text import plural
from hil.validate.check import check_vectors
from hil.validate.run_report import RunInfo, RunReport

DEFAULT_MODELS = ("cifar10", "lenet5", "lenet5-mnist")
DEFAULT_VECTORS = 2

Say = Callable[[str], None]


class _Compared:
    """A portable count beside the genuine library's (None: not measured)."""

    portable: int
    genuine: int | None

    @property
    def ratio(self) -> float | None:
        """portable / genuine: at or below 1 the portable kernel is as fast or faster."""
        return None if not self.genuine else self.portable / self.genuine

    @property
    def above(self) -> bool:
        """The portable kernel takes more than the genuine one here."""
        return self.genuine is not None and self.portable > self.genuine


@dataclass(frozen=True)
class LayerCounts(_Compared):
    """One layer's median count with each kernel library (genuine None: not measured)."""

    index: int
    name: str
    function: str
    portable: int
    genuine: int | None = None


@dataclass(frozen=True)
class FunctionCounts(_Compared):
    """One CMSIS-NN function's counts summed over every layer that calls it."""

    function: str
    layers: int
    portable: int
    genuine: int | None = None


def _summed(function: str, layers: Sequence[LayerCounts]) -> FunctionCounts:
    genuine = [layer.genuine for layer in layers]
    return FunctionCounts(
        function,
        len(layers),
        sum(layer.portable for layer in layers),
        None if any(g is None for g in genuine) else sum(g for g in genuine if g is not None),
    )


@dataclass(frozen=True)
class ModelCounts:
    model: str
    layers: tuple[LayerCounts, ...]

    @property
    def total(self) -> FunctionCounts:
        """The whole inference, as one row."""
        return _summed("", self.layers)


@dataclass(frozen=True)
class KernelBench:
    """Every model's per-layer counts on one board, in one unit."""

    board: str
    unit: str  # "instructions", "cycles", "ticks" (hil.device.counts)
    source: str  # "qemu-icount", "dwt", ...
    vectors: int
    seed: int
    genuine_library: Path | None  # None: the portable kernels alone were measured
    models: tuple[ModelCounts, ...]

    @property
    def layers(self) -> list[LayerCounts]:
        return [layer for model in self.models for layer in model.layers]

    def functions(self) -> list[FunctionCounts]:
        """Per function (by name), summed over every model's layers that call it."""
        by_function: dict[str, list[LayerCounts]] = {}
        for layer in self.layers:
            by_function.setdefault(layer.function, []).append(layer)
        return [_summed(name, by_function[name]) for name in sorted(by_function)]

    @property
    def total(self) -> FunctionCounts:
        return _summed("", self.layers)

    def layers_above(self) -> int:
        """How many layers the portable kernels take more than the genuine library on."""
        return sum(layer.above for layer in self.layers)

    def above_text(self) -> str:
        """``3 of 27 layers above the genuine library``."""
        return f"{self.layers_above()} of {plural(len(self.layers), 'layer')} above the genuine library"

    def to_dict(self) -> dict[str, Any]:
        def counts(row: LayerCounts | FunctionCounts) -> dict[str, Any]:
            return {"portable": row.portable, "genuine": row.genuine, "ratio": row.ratio}

        return {
            "board": self.board,
            "count_unit": self.unit,
            "count_source": self.source,
            "vectors": self.vectors,
            "seed": self.seed,
            "genuine_library": None if self.genuine_library is None else str(self.genuine_library),
            "models": [
                {
                    "model": m.model,
                    "layers": [
                        {"index": x.index, "name": x.name, "function": x.function, **counts(x)}
                        for x in m.layers
                    ],
                    "total": counts(m.total),
                }
                for m in self.models
            ],
            "functions": [
                {"function": f.function, "layers": f.layers, **counts(f)} for f in self.functions()
            ],
            "total": counts(self.total),
            "layers_above_genuine": self.layers_above() if self.genuine_library else None,
        }


def layer_medians(report: RunReport, target: Target) -> list[int]:
    """Each layer's median count from a judged run; any mismatch is MismatchError."""
    bad = report.first_bad_layer()
    library = _library_words(target)
    if bad is not None:
        again = f" --cmsis-nn {target.cmsis_nn}" if target.cmsis_nn else ""
        raise MismatchError(
            f"layer {bad.index} {bad.name} ({bad.function}) differs from the reference "
            f"({target.network.name} on {target.board.id}, {library})",
            hint="a wrong kernel's count means nothing; see every layer's mismatches with "
            f"hil run --board {target.board.id} --model {target.model}{again}",
        )
    counts = [report.count(s) for s in report.layers]
    missing = next((s for s, n in zip(report.layers, counts) if n is None), None)
    if missing is not None:
        raise DeviceError(
            f"layer {missing.index} {missing.name} reported no count "
            f"({target.network.name} on {target.board.id}, {library})",
            hint="rebuild the image (delete its folder under --build-dir) and run again",
        )
    return [n for n in counts if n is not None]


def measure_layers(
    target: Target, x: np.ndarray, *, say: Say | None = None
) -> tuple[CountSource, list[int]]:
    """Build and run ``target`` on the vectors ``x``, every layer judged as in ``hil run``."""
    net = target.network
    image = build(target, say=say)
    # As `hil run` judges by default: full tensors on emulators, digests on silicon.
    dump = "all" if target.emulated else "mismatch"
    if say is not None:
        say(f"{plural(len(x), 'vector')} on {target.board.id}")
    with connect(target, image=image) as (dev,):
        info = dev.info
        # The outputs are judged by the reference the image computes: its kernel path
        # (q7) or its rounding (s8), as in `hil run`.
        variant = info.reference_variant
        report = RunReport(
            net,
            RunInfo(net.name, target.board.id, variant, info.backend, dev.counts),
            vectors_requested=len(x),
        )
        check_vectors(dev.session, net, x, report, variant=variant, dump=dump)
    return dev.counts, layer_medians(report, target)


def bench_kernels(
    targets: Sequence[Target],
    *,
    vectors: int = DEFAULT_VECTORS,
    seed: int = 0,
    progress: Say | None = None,
) -> KernelBench:
    """Per-layer medians of every target's model, portable kernels and (when the targets
    name one) the genuine CMSIS-NN. The targets share one board and one --cmsis-nn, which
    must fit each target's family (the command line checks that before any build)."""
    say = progress or (lambda _m: None)
    first = targets[0]
    source: CountSource | None = None
    models = []
    for target in targets:
        net = target.network
        x = generated_inputs(net, vectors, seed)
        runs = [replace(target, cmsis_nn=None)] + ([target] if target.cmsis_nn else [])
        medians = []
        for run in runs:
            words = f"{net.name}, {_library_words(run)}"
            counts, layer_counts = measure_layers(run, x, say=_prefixed(say, words))
            source = source or counts
            medians.append(layer_counts)
        genuine = medians[1] if len(medians) > 1 else [None] * len(net.layers)
        layers = tuple(
            LayerCounts(i, layer.name, layer.function, portable, g)
            for i, (layer, portable, g) in enumerate(zip(net.layers, medians[0], genuine))
        )
        models.append(ModelCounts(net.name, layers))
    assert source is not None  # at least one target was measured
    return KernelBench(
        board=first.board.id,
        unit=source.unit,
        source=source.name,
        vectors=vectors,
        seed=seed,
        genuine_library=first.cmsis_nn,
        models=tuple(models),
    )


def _prefixed(say: Say, words: str) -> Say:
    return lambda message: say(f"{words}: {message}")


def _library_words(target: Target) -> str:
    return f"genuine CMSIS-NN {target.cmsis_nn}" if target.cmsis_nn else "portable kernels"
