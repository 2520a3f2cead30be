"""Run reports: per-layer aggregation, the terminal table, JSON and JUnit XML.

A run's verdicts are folded into one row per layer (vectors aggregated).
Results are appended to a JSON Lines log as they arrive, so a run that
dies half-way still leaves every verdict it had.
"""

from __future__ import annotations

import json
import statistics
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from rich.console import Console
from rich.table import Table

from hil.compare import LayerVerdict
from hil.counts import CountSource
from hil.model import Network


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
    unknown_mismatches: int = 0      # digest-only mismatches (element count unknown)
    max_abs_diff: int = 0
    first_failure: dict[str, Any] | None = None
    ticks: list[int] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.vectors > 0 and self.matched == self.vectors

    def median_ticks(self) -> int | None:
        return int(statistics.median(self.ticks)) if self.ticks else None


@dataclass(frozen=True)
class LayerDiff:
    """Both tensors (flat int8) of a layer's first mismatching vector, for element-wise views."""

    vector: int
    expected: np.ndarray
    got: np.ndarray


@dataclass
class RunInfo:
    model: str
    board: str
    variant: str
    backend: str
    count_source: CountSource
    device: dict[str, Any] = field(default_factory=dict)
    inputs_sha256: str = ""   # identifies the input set, so --resume continues the same run


class RunReport:
    """Collects verdicts vector by vector and renders them."""

    def __init__(self, network: Network, info: RunInfo, log: IO[str] | None = None) -> None:
        self.network = network
        self.info = info
        self.layers = [
            LayerSummary(i, l.name, l.function, l.output_shape, l.macs)
            for i, l in enumerate(network.layers)
        ]
        self.vectors_done = 0
        self.diffs: dict[int, LayerDiff] = {}   # layer index -> its first full-tensor mismatch
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

    def add_vector(self, verdicts: list[LayerVerdict]) -> None:
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
            if not v.matched and s.first_failure is None:
                s.first_failure = {
                    "vector": v.vector, "index": v.first_mismatch,
                    "expected": v.expected_at_first, "got": v.got_at_first,
                }
            if v.ticks is not None:
                s.ticks.append(v.ticks)
            if self._log is not None:
                self._emit({"record": "layer", **asdict(v)})
        self.vectors_done += 1

    def keep_diff(self, layer: int, vector: int, expected: np.ndarray, got: np.ndarray) -> None:
        """Keep a mismatching layer's tensors; only the first per layer, so memory stays bounded."""
        if layer not in self.diffs and expected.size == got.size:
            self.diffs[layer] = LayerDiff(vector, np.array(expected, dtype=np.int8).ravel(),
                                          np.array(got, dtype=np.int8).ravel())

    @property
    def passed(self) -> bool:
        return self.vectors_done > 0 and all(s.passed for s in self.layers)

    def first_bad_layer(self) -> LayerSummary | None:
        return next((s for s in self.layers if not s.passed), None)

    def count(self, s: LayerSummary) -> int | None:
        t = s.median_ticks()
        return None if t is None else self.info.count_source.convert(t)

    # -- rendering ---------------------------------------------------------

    def table(self) -> Table:
        src = self.info.count_source
        t = Table(title=f"{self.info.model} on {self.info.board} "
                        f"({self.vectors_done} vectors, reference variant {self.info.variant})")
        for col, just in (("#", "right"), ("layer", "left"), ("function", "left"),
                          ("output", "left"), ("verdict", "left"), ("mismatches", "right"),
                          ("max |diff|", "right"), ("first mismatch", "left"),
                          (f"{src.unit} ({src.name})", "right"), ("MACs", "right"),
                          (f"MACs/{src.unit[:-1] if src.unit.endswith('s') else src.unit}", "right")):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        for s in self.layers:
            n = self.count(s)
            if s.passed:
                verdict = f"[green]match {s.matched}/{s.vectors}[/]"
            else:
                verdict = f"[red]MISMATCH {s.vectors - s.matched}/{s.vectors}[/]"
            mism = str(s.mismatching_elements) + ("+?" if s.unknown_mismatches else "")
            ff = s.first_failure
            first = ("" if ff is None else
                     f"v{ff['vector']}[{ff['index']}] {ff['expected']}->{ff['got']}"
                     if ff["index"] is not None else f"v{ff['vector']} (digest)")
            t.add_row(str(s.index), s.name, s.function, "x".join(map(str, s.output_shape)),
                      verdict, mism, str(s.max_abs_diff), first,
                      "" if n is None else f"{n:,}", f"{s.macs:,}",
                      "" if not n or not s.macs else f"{s.macs / n:.3f}")
        return t

    def summary_line(self) -> str:
        bad = [s for s in self.layers if not s.passed]
        total = self.vectors_done * len(self.layers)
        failed = sum(s.vectors - s.matched for s in self.layers)
        verdict = "PASS" if self.passed else "FAIL"
        line = (f"{verdict}: {self.vectors_done} vectors x {len(self.layers)} layers, "
                f"{total - failed} layer results matched, {failed} mismatched")
        if bad:
            line += f"; first bad layer: {bad[0].index} {bad[0].name} ({bad[0].function})"
        return line

    def render(self, console: Console) -> None:
        console.print(self.table())
        totals = [self.count(s) for s in self.layers]
        if all(n is not None for n in totals) and totals:
            src = self.info.count_source
            console.print(f"total per inference: {sum(totals):,} {src.unit} "
                          f"(source: {src.name})")
        console.print(self.summary_line(), markup=False)

    # -- files -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "info": self._info_dict(),
            "vectors": self.vectors_done,
            "passed": self.passed,
            "layers": [
                {
                    "index": s.index, "name": s.name, "function": s.function,
                    "output_shape": list(s.output_shape), "macs": s.macs,
                    "vectors": s.vectors, "matched": s.matched,
                    "mismatching_elements": s.mismatching_elements,
                    "digest_only_mismatches": s.unknown_mismatches,
                    "max_abs_diff": s.max_abs_diff, "first_failure": s.first_failure,
                    "median_ticks": s.median_ticks(), "count": self.count(s),
                    "count_unit": self.info.count_source.unit,
                    "count_source": self.info.count_source.name,
                }
                for s in self.layers
            ],
        }

    def write_json(self, path: Path) -> None:
        _atomic_write(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    def write_junit(self, path: Path) -> None:
        suite_name = f"hil.{self.info.board}.{self.info.model}"
        suite = ET.Element("testsuite", name=suite_name, tests=str(len(self.layers)),
                           failures=str(sum(not s.passed for s in self.layers)))
        props = ET.SubElement(suite, "properties")
        for k, v in (("board", self.info.board), ("model", self.info.model),
                     ("variant", self.info.variant), ("backend", self.info.backend),
                     ("count_source", self.info.count_source.name),
                     ("vectors", str(self.vectors_done))):
            ET.SubElement(props, "property", name=k, value=v)
        for s in self.layers:
            case = ET.SubElement(suite, "testcase", classname=suite_name,
                                 name=f"{s.index:02d}_{s.name}")
            cprops = ET.SubElement(case, "properties")
            n = self.count(s)
            for k, v in (("function", s.function), ("macs", str(s.macs)),
                         ("count", "" if n is None else str(n)),
                         ("count_unit", self.info.count_source.unit),
                         ("count_source", self.info.count_source.name)):
                ET.SubElement(cprops, "property", name=k, value=v)
            if not s.passed:
                ff = s.first_failure or {}
                msg = (f"{s.vectors - s.matched} of {s.vectors} vectors mismatched; "
                       f"{s.mismatching_elements} elements, max |diff| {s.max_abs_diff}")
                fail = ET.SubElement(case, "failure", message=msg, type="mismatch")
                fail.text = json.dumps(ff)
        root = ET.Element("testsuites")
        root.append(suite)
        ET.indent(root)
        _atomic_write(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
