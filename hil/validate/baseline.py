"""Count baselines: per-layer cycle/instruction budgets and the gate against them.

A baseline is a small JSON file with one median count per layer plus what
the counts mean (board, count source and unit) and where they came from
(model hash, firmware build id). Counts are compared only like with like:
instructions on an emulator are not cycles on silicon, and a count from one
board says nothing about another.

A count is a difference of two reads of a tick counter, so it is only known
to about one tick either way: the counter's phase at a layer's start depends
on how long the device waited for the host. Where a tick is finer than the
count unit (QEMU at icount shift 7: 3.2 ticks per instruction) rounding each
vector's count removes that jitter and emulated baselines repeat exactly;
where it is coarser (shift 3: 5 instructions per tick) it does not. The gate
therefore allows ``SLACK_TICKS`` ticks on top of the relative tolerance.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hil.errors import BudgetError, ConfigError
from hil.validate.run_report import RunReport

FORMAT_VERSION = 1
SLACK_TICKS = 2
_SAVE_HINT = "record a new one with `hil run --save-baseline FILE`"


@dataclass(frozen=True)
class BaselineLayer:
    index: int
    name: str
    function: str
    count: int


@dataclass(frozen=True)
class Baseline:
    model: str
    board: str
    count_source: str
    unit: str
    resolution: float  # count units per device tick
    model_hash: str
    build_id: str
    vectors: int
    layers: tuple[BaselineLayer, ...]

    def check_target(self, board: str, model: str) -> None:
        """Refuse early, before anything is built, when this baseline is for another target."""
        if self.board != board:
            raise ConfigError(
                f"the baseline is for board {self.board!r}, this run is on {board!r}: "
                "counts from one board cannot budget another",
                hint=f"use a baseline recorded on {board}, or {_SAVE_HINT}",
            )
        if self.model != model:
            raise ConfigError(
                f"the baseline is for model {self.model!r}, this run is {model!r}",
                hint=f"use the baseline of {model}, or {_SAVE_HINT}",
            )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["format"] = FORMAT_VERSION
        return d


def baseline_from_report(report: RunReport) -> Baseline:
    """The median count of every layer of ``report``; refuses a run without counts."""
    info = report.info
    layers = []
    for s in report.layers:
        if not s.ticks:
            raise ConfigError(
                f"layer {s.index} {s.name} has no count to save as a baseline",
                hint="run at least one vector on a device that reports counts",
            )
        # Convert each vector's ticks before taking the median: rounding each count
        # to whole units absorbs a sub-unit tick jitter, which a median of raw ticks keeps.
        n = round(statistics.median(info.count_source.convert(t) for t in s.ticks))
        layers.append(BaselineLayer(s.index, s.name, s.function, n))
    return Baseline(
        model=info.model,
        board=info.board,
        count_source=info.count_source.name,
        unit=info.count_source.unit,
        resolution=info.count_source.scale,
        model_hash=str(info.device.get("model_hash", "")),
        build_id=str(info.device.get("build_id", "")),
        vectors=report.vectors_done,
        layers=tuple(layers),
    )


def save_baseline(baseline: Baseline, path: Path) -> None:
    from hil.outputs import write_text

    write_text(
        path, json.dumps(baseline.to_dict(), indent=2, sort_keys=True) + "\n", "--save-baseline"
    )


def load_baseline(path: Path) -> Baseline:
    """Read and validate a baseline file; every problem names the file and the fix."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"baseline file {path} does not exist", hint=_SAVE_HINT) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"baseline file {path} is not readable JSON: {exc}", hint=_SAVE_HINT
        ) from None
    try:
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT_VERSION}")
        layers = tuple(
            BaselineLayer(int(l["index"]), str(l["name"]), str(l["function"]), int(l["count"]))
            for l in data["layers"]
        )
        if any(l.count < 0 for l in layers) or float(data["resolution"]) <= 0:
            raise ValueError("negative count or resolution")
        return Baseline(
            model=str(data["model"]),
            board=str(data["board"]),
            count_source=str(data["count_source"]),
            unit=str(data["unit"]),
            resolution=float(data["resolution"]),
            model_hash=str(data["model_hash"]),
            build_id=str(data["build_id"]),
            vectors=int(data["vectors"]),
            layers=layers,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        what = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ConfigError(f"baseline file {path} is malformed: {what}", hint=_SAVE_HINT) from None


_TOLERANCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


def parse_tolerance(text: str) -> float:
    """``"2%"`` -> 0.02; a bare number is a fraction (``"0.02"``)."""
    m = _TOLERANCE.match(text)
    if not m:
        raise ConfigError(
            f"--max-regression {text!r} is not a tolerance",
            hint="give a percentage such as 2% or 0.5%, or 0 for an exact gate",
        )
    value = float(m.group(1))
    if not m.group(2) and value >= 1:
        raise ConfigError(
            f"--max-regression {text!r} would allow {value:.0%} growth",
            hint=f"write a percentage: {text.strip()}%",
        )
    return value / 100 if m.group(2) else value


@dataclass(frozen=True)
class LayerChange:
    index: int
    name: str
    baseline: int
    now: int
    allowed: float  # largest growth that still passes, in count units

    @property
    def over(self) -> bool:
        return self.now - self.baseline > self.allowed

    @property
    def change(self) -> float:
        """Relative change; +inf when a zero-count layer now costs something."""
        if self.baseline == 0:
            return 0.0 if self.now == 0 else math.inf
        return (self.now - self.baseline) / self.baseline

    @property
    def change_text(self) -> str:
        """The change as shown to people: a signed percentage, or "new cost"."""
        return "new cost" if math.isinf(self.change) else f"{self.change:+.2%}"


@dataclass(frozen=True)
class BudgetComparison:
    baseline: Baseline
    current: Baseline
    max_regression: float
    rows: tuple[LayerChange, ...]

    @property
    def regressions(self) -> list[LayerChange]:
        return [r for r in self.rows if r.over]

    @property
    def passed(self) -> bool:
        return not self.regressions

    def total(self) -> LayerChange:
        return LayerChange(
            -1,
            "total",
            sum(r.baseline for r in self.rows),
            sum(r.now for r in self.rows),
            sum(r.allowed for r in self.rows),
        )

    def check(self) -> None:
        """Raise BudgetError naming every layer past the tolerance."""
        bad = self.regressions
        if bad:
            worst = ", ".join(f"{r.index} {r.name} {r.change_text}" for r in bad)
            raise BudgetError(
                f"{len(bad)} layer(s) over the {self.max_regression:.2%} {self.current.unit} "
                f"budget: {worst}",
                hint="find what made them slower; if the change is intended, "
                "record a new baseline with --save-baseline FILE",
            )


def compare_counts(
    baseline: Baseline, current: Baseline, max_regression: float
) -> BudgetComparison:
    """Line ``current`` up against ``baseline``; refuses to compare unlike counts."""
    for what, old, new in (
        ("board", baseline.board, current.board),
        ("count source", baseline.count_source, current.count_source),
        ("count unit", baseline.unit, current.unit),
    ):
        if old != new:
            raise ConfigError(
                f"the baseline's {what} is {old!r} but this run's is {new!r}: "
                f"{baseline.unit} ({baseline.count_source}) on {baseline.board} cannot budget "
                f"{current.unit} ({current.count_source}) on {current.board}",
                hint=f"use a baseline recorded on {current.board}, or {_SAVE_HINT}",
            )
    old_layers = [(l.name, l.function) for l in baseline.layers]
    new_layers = [(l.name, l.function) for l in current.layers]
    if baseline.model != current.model or old_layers != new_layers:
        raise ConfigError(
            f"the baseline is for model {baseline.model!r} with {len(old_layers)} layers, "
            f"this run is {current.model!r} with {len(new_layers)} layers",
            hint=f"use the baseline of this model, or {_SAVE_HINT}",
        )
    if max_regression < 0:
        raise ConfigError("--max-regression cannot be negative", hint="use 0 for an exact gate")
    slack = SLACK_TICKS * max(baseline.resolution, current.resolution)
    rows = tuple(
        LayerChange(n.index, n.name, o.count, n.count, max_regression * o.count + slack)
        for o, n in zip(baseline.layers, current.layers)
    )
    return BudgetComparison(baseline, current, max_regression, rows)
