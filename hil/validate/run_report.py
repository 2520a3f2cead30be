"""The run report as data: per-layer aggregation of every vector's verdicts.

A run's verdicts are folded into one row per layer (vectors aggregated).
Results are appended to a JSON Lines log as they arrive, so a run that
dies half-way still leaves every verdict it had. A run over several devices
also records how many vectors each judged and every device it lost on the way.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from typing import IO, Any

import numpy as np

from hil.device.counts import CountSource
from hil.model import Network
from hil.model.diagnostics import top1
from hil.text import plural
from hil.validate.compare import DiffStats, LayerVerdict


@dataclass
class LayerSummary:
    index: int
    name: str
    function: str
    output_shape: tuple[int, ...]
    macs: int
    vectors: int = 0
    matched: int = 0
    mismatching_elements: int = 0
    unknown_mismatches: int = 0  # digest-only mismatches (element count unknown)
    max_abs_diff: int = 0
    first_failure: dict[str, Any] | None = None
    ticks: list[int] = field(default_factory=list)
    # Judged alone (the reference fed the device's own input); only where full tensors exist.
    isolated_vectors: int = 0
    isolated_matched: int = 0
    # Vectors that differ chained but were not judged in isolation (digest only).
    failures_not_isolated: int = 0
    # got - expected over the vectors where this layer differs (chained / isolated).
    chained_stats: DiffStats | None = None
    isolated_stats: DiffStats | None = None

    @property
    def passed(self) -> bool:
        return self.vectors > 0 and self.matched == self.vectors

    @property
    def failed(self) -> bool:
        return self.vectors > self.matched

    @property
    def wrong_in_isolation(self) -> bool:
        return self.isolated_vectors > self.isolated_matched

    @property
    def only_inherits(self) -> bool:
        """Differs chained, yet every differing vector passed when the layer was judged alone."""
        return self.failed and not self.wrong_in_isolation and self.failures_not_isolated == 0

    def verdict(self) -> tuple[str, str]:
        """("match" | "differ" | "not judged", words), shared by every report sink."""
        if self.vectors == 0:
            return "not judged", "not judged"
        if self.passed:
            return "match", f"match {self.matched}/{self.vectors}"
        return "differ", f"{self.vectors - self.matched} of {plural(self.vectors, 'vector')} differ"

    def median_ticks(self) -> int | None:
        return int(statistics.median(self.ticks)) if self.ticks else None


@dataclass(frozen=True)
class LayerDiff:
    """Both tensors (flat int8) of a layer's first mismatching vector, for element-wise views."""

    vector: int
    expected: np.ndarray
    got: np.ndarray


@dataclass(frozen=True)
class Blame:
    """The layer a run blames: the first wrong in isolation, else the first chained failure."""

    layer: LayerSummary
    isolated: bool  # False: no isolated verdict showed a wrong kernel; this is a fallback

    def text(self) -> str:
        s = self.layer
        words = f"layer {s.index} {s.name} ({s.function})"
        return words if self.isolated else f"{words}, first chained failure (no isolated verdict)"


@dataclass(frozen=True)
class DeviceFailure:
    """A device lost during a run (hil.validate.sharded): where, why, and whether the
    vector it was on went to another device."""

    device: str
    vector: int
    error: str  # the exception's one-line message
    rerun: bool

    def text(self) -> str:
        """The one-line warning every sink shows."""
        then = "was re-run on the other devices" if self.rerun else "was not re-run"
        return (
            f"device {self.device} failed at vector {self.vector} ({self.error}); "
            f"vector {self.vector} {then}"
        )


@dataclass
class RunInfo:
    model: str
    board: str
    variant: str
    backend: str
    count_source: CountSource
    device: dict[str, Any] = field(default_factory=dict)
    inputs_sha256: str = ""  # identifies the input set, so --resume continues the same run
    inputs: dict[str, Any] = field(default_factory=dict)  # --inputs path, or -n and --seed


class RunReport:
    """Collects verdicts vector by vector and renders them."""

    def __init__(
        self,
        network: Network,
        info: RunInfo,
        log: IO[str] | None = None,
        *,
        vectors_requested: int | None = None,
    ) -> None:
        self.network = network
        self.info = info
        # A run passes only when every requested vector was judged (see ``complete``).
        self.vectors_requested = vectors_requested
        self.incomplete_reason: str | None = None
        self.layers = [
            LayerSummary(i, l.name, l.function, l.output_shape, l.macs)
            for i, l in enumerate(network.layers)
        ]
        self.vectors_done = 0
        self.diffs: dict[int, LayerDiff] = {}  # layer index -> its first full-tensor mismatch
        # For the accuracy: each judged vector's last-layer verdict, and the device's
        # last-layer tensor wherever it differed and was sent in full.
        self.final_matched: dict[int, bool] = {}
        self.final_outputs: dict[int, np.ndarray] = {}
        self.final_expected: dict[int, np.ndarray] = {}
        # Set by hil.validate.accuracy when the run has labels; reported only then.
        self.accuracy: dict[str, Any] | None = None
        self.diagnostics: dict[str, Any] | None = None
        # Where and how the run happened (hil.report.context); filled by `hil run`.
        self.context: dict[str, Any] = {}
        # Vectors judged per device label, and the devices lost on the way (sharded runs).
        self.device_vectors: dict[str, int] = {}
        self.device_failures: list[DeviceFailure] = []
        self._log = log
        if log is not None:
            self._emit({"record": "run", **self._info_dict()})

    def _info_dict(self) -> dict[str, Any]:
        d = asdict(self.info)
        d["count_source"] = asdict(self.info.count_source)
        return d

    def _emit(self, record: dict[str, Any]) -> None:
        assert self._log is not None
        self._log.write(json.dumps(record, sort_keys=True) + "\n")
        self._log.flush()

    def add_devices(self, names: list[str]) -> None:
        """The devices a run shares its vectors over, so one that judged none is listed too."""
        for name in names:
            self.device_vectors.setdefault(name, 0)

    def add_device_failure(self, failure: DeviceFailure) -> None:
        """A device lost mid-run: a warning in every sink, never a mismatch."""
        self.device_failures.append(failure)
        if self._log is not None:
            self._emit({"record": "device_failure", **asdict(failure)})

    def add_vector(self, verdicts: list[LayerVerdict], *, device: str | None = None) -> None:
        """One vector's verdicts; ``device`` names the device that judged it, if known."""
        if device is not None:
            self.device_vectors[device] = self.device_vectors.get(device, 0) + 1
        for v in verdicts:
            s = self.layers[v.layer]
            s.vectors += 1
            if v.matched:
                s.matched += 1
            elif v.mismatches is None:
                s.unknown_mismatches += 1
            else:
                s.mismatching_elements += v.mismatches
                s.max_abs_diff = max(s.max_abs_diff, v.max_abs_diff or 0)
            self._add_isolated(s, v)
            if not v.matched and s.first_failure is None:
                s.first_failure = {
                    "vector": v.vector,
                    "index": v.first_mismatch,
                    "expected": v.expected_at_first,
                    "got": v.got_at_first,
                }
            if v.ticks is not None:
                s.ticks.append(v.ticks)
            if v.layer == len(self.layers) - 1:
                self.final_matched[v.vector] = v.matched
            if self._log is not None:
                self._emit({"record": "layer", **asdict(v)})
        self.vectors_done += 1

    @staticmethod
    def _add_isolated(s: LayerSummary, v: LayerVerdict) -> None:
        if not v.matched:
            s.chained_stats = v.stats.merged(s.chained_stats) if v.stats else s.chained_stats
        if v.isolated_matched is None:
            s.failures_not_isolated += not v.matched
            return
        s.isolated_vectors += 1
        if v.isolated_matched:
            s.isolated_matched += 1
        elif v.isolated_stats is not None:
            s.isolated_stats = v.isolated_stats.merged(s.isolated_stats)

    def keep_diff(self, layer: int, vector: int, expected: np.ndarray, got: np.ndarray) -> None:
        """Keep a mismatching layer's tensors; only the first per layer, so memory stays bounded.
        The last layer's are kept for every vector (a few bytes each): the accuracy needs them."""
        if layer == len(self.layers) - 1:
            self.final_outputs[vector] = np.array(got, dtype=np.int8).ravel()
            self.final_expected[vector] = np.array(expected, dtype=np.int8).ravel()
        if layer not in self.diffs and expected.size == got.size:
            self.diffs[layer] = LayerDiff(
                vector,
                np.array(expected, dtype=np.int8).ravel(),
                np.array(got, dtype=np.int8).ravel(),
            )

    def mark_incomplete(self, reason: str) -> None:
        """The run was cut short (interrupt, device gone, error): it can no longer pass."""
        if self.incomplete_reason is None:
            self.incomplete_reason = reason

    @property
    def complete(self) -> bool:
        """Every requested vector was judged and nothing cut the run short."""
        requested = self.vectors_requested
        return (
            self.incomplete_reason is None
            and self.vectors_done > 0
            and (requested is None or self.vectors_done >= requested)
        )

    @property
    def matched(self) -> bool:
        """Every vector judged so far matched on every layer (says nothing of completeness)."""
        return self.vectors_done > 0 and all(s.passed for s in self.layers)

    @property
    def passed(self) -> bool:
        return self.complete and self.matched

    @property
    def verdict(self) -> str:
        """ "pass", "fail" (a mismatch was seen) or "incomplete" (cut short, no mismatch seen)."""
        if self.passed:
            return "pass"
        return "fail" if any(s.vectors > s.matched for s in self.layers) else "incomplete"

    def progress_text(self) -> str:
        """``7 of 200 vectors`` (or ``7 vectors`` when no total was asked for)."""
        if self.vectors_requested is None:
            return plural(self.vectors_done, "vector")
        return f"{self.vectors_done} of {plural(self.vectors_requested, 'vector')}"

    def first_bad_layer(self) -> LayerSummary | None:
        return next((s for s in self.layers if not s.passed), None)

    def first_wrong_kernel(self) -> Blame | None:
        """The first layer wrong in isolation; failing that, the first chained failure."""
        isolated = next((s for s in self.layers if s.wrong_in_isolation), None)
        if isolated is not None:
            return Blame(isolated, True)
        chained = next((s for s in self.layers if s.failed), None)
        return None if chained is None else Blame(chained, False)

    def inherits_from(self, s: LayerSummary) -> int | None:
        """For a layer that only inherited a wrong input: the nearest earlier wrong kernel."""
        if not s.only_inherits:
            return None
        earlier = [e.index for e in self.layers[: s.index] if e.wrong_in_isolation]
        return earlier[-1] if earlier else None

    def blame_text(self, s: LayerSummary, *, short: bool = False) -> str:
        """What the isolated check says of a failing layer, for every sink ("" if nothing).
        ``short`` leaves the blamed layer's name out, for a table row that shows it already."""
        if not s.failed:
            return ""
        source = self.inherits_from(s)
        if source is not None:
            return f"inherits the error from layer {source}"
        blame = self.first_wrong_kernel()
        if blame is not None and blame.layer is s:
            return "first wrong kernel" if short else f"first wrong kernel: {blame.text()}"
        return "wrong in isolation" if s.wrong_in_isolation else ""

    def top1_agreement(self) -> dict[str, Any] | None:
        """The last layer's predicted class, device against reference, over the judged vectors.

        A vector whose last layer matched agrees; one that differed in full is
        compared by argmax (ties to the lowest class, as the accuracy); a digest-only difference is unknown.
        """
        if not self.final_matched:
            return None
        changed, unknown = [], []
        for vector, matched in sorted(self.final_matched.items()):
            if matched:
                continue
            got, exp = self.final_outputs.get(vector), self.final_expected.get(vector)
            if got is None or exp is None or got.size != exp.size:
                unknown.append(vector)
            else:
                got_class, expected_class = (int(c) for c in top1(np.stack([got, exp])))
                if got_class != expected_class:
                    changed.append(
                        {"vector": vector, "expected_class": expected_class, "got_class": got_class}
                    )
        judged = len(self.final_matched)
        return {
            "vectors": judged,
            "agree": judged - len(changed) - len(unknown),
            "changed": changed,
            "unknown": unknown,
        }

    def count(self, s: LayerSummary) -> int | None:
        t = s.median_ticks()
        return None if t is None else self.info.count_source.convert(t)

    def summary_line(self) -> str:
        bad = [s for s in self.layers if not s.passed and s.vectors]
        total = self.vectors_done * len(self.layers)
        failed = sum(s.vectors - s.matched for s in self.layers)
        head = {"pass": "PASS", "fail": "FAIL", "incomplete": "INCOMPLETE"}[self.verdict]
        line = (
            f"{head}: {self.progress_text()} x {plural(len(self.layers), 'layer')}, "
            f"{total - failed} layer results matched, {failed} mismatched"
        )
        if bad:
            line += f"; first bad layer: {bad[0].index} {bad[0].name} ({bad[0].function})"
        blame = self.first_wrong_kernel()
        if blame is not None:
            line += f"; first wrong kernel: {blame.text()}"
        if not self.complete:
            line += f"; cut short: {self.incomplete_reason or 'not every vector was judged'}"
        return line

    def incomplete_text(self) -> str:
        """Why the run is not complete, in words: ``interrupted after 7 of 200 vectors``."""
        reason = self.incomplete_reason or "not every vector was judged"
        return f"{reason} after {self.progress_text()}"

    # -- as plain data (the JSON report and the HTML page read it) ----------

    def to_dict(self) -> dict[str, Any]:
        extra = {
            key: value
            for key, value in (("accuracy", self.accuracy), ("diagnostics", self.diagnostics))
            if value is not None
        }
        return {
            **extra,
            "info": self._info_dict(),
            "context": self.context,
            "vectors": self.vectors_done,
            "vectors_done": self.vectors_done,
            "vectors_requested": self.vectors_requested,
            "complete": self.complete,
            "incomplete_reason": None
            if self.complete
            else (self.incomplete_reason or "not every vector was judged"),
            "verdict": self.verdict,
            "passed": self.passed,
            "first_wrong_kernel": self._blame_dict(),
            "top1": self.top1_agreement(),
            "devices": self._devices_list(),
            "device_failures": [asdict(f) for f in self.device_failures],
            "layers": [
                {
                    "index": s.index,
                    "name": s.name,
                    "function": s.function,
                    "output_shape": list(s.output_shape),
                    "macs": s.macs,
                    "vectors": s.vectors,
                    "matched": s.matched,
                    "mismatching_elements": s.mismatching_elements,
                    "digest_only_mismatches": s.unknown_mismatches,
                    "max_abs_diff": s.max_abs_diff,
                    "first_failure": s.first_failure,
                    "median_ticks": s.median_ticks(),
                    "count": self.count(s),
                    "count_unit": self.info.count_source.unit,
                    "count_source": self.info.count_source.name,
                    "isolated": {
                        "vectors": s.isolated_vectors,
                        "matched": s.isolated_matched,
                        "not_isolated_failures": s.failures_not_isolated,
                    },
                    "wrong_in_isolation": s.wrong_in_isolation,
                    "inherits_from": self.inherits_from(s),
                    "blame": self.blame_text(s) or None,
                    "chained_stats": _stats_dict(s.chained_stats),
                    "isolated_stats": _stats_dict(s.isolated_stats),
                }
                for s in self.layers
            ],
        }

    def _devices_list(self) -> list[dict[str, Any]]:
        failed = {f.device: f.error for f in self.device_failures}
        names = [*self.device_vectors, *(d for d in failed if d not in self.device_vectors)]
        return [
            {"name": d, "vectors": self.device_vectors.get(d, 0), "failed": failed.get(d)}
            for d in names
        ]

    def _blame_dict(self) -> dict[str, Any] | None:
        blame = self.first_wrong_kernel()
        if blame is None:
            return None
        s = blame.layer
        return {
            "index": s.index,
            "name": s.name,
            "function": s.function,
            "isolated": blame.isolated,
        }


def _stats_dict(stats: DiffStats | None) -> dict[str, Any] | None:
    return None if stats is None else stats.to_dict()
