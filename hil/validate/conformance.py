"""Run golden-vector folders (FORMAT.md) through a kernel runner and report.

The default runner is the host reference; the lead plugs in a device runner
with the same signature to run the same cases on a board. A runner returns
the output array, or a KernelResult when it also measured ticks. The report
is data; hil.report.conformance_table renders it.
"""

from __future__ import annotations

import statistics
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, NamedTuple

import numpy as np

from hil.errors import ConfigError
from hil.reference import call_kernel
from hil.reference._kernel import check_variant
from hil.reference.spec import KERNEL_SPECS

FUNCTION_KEY = "__function__"
_NOT_ARGUMENTS = {FUNCTION_KEY, "pM_rowmajor"}


class KernelResult(NamedTuple):
    output: np.ndarray
    ticks: int | None = None


KernelRunner = Callable[[str, dict[str, Any]], "np.ndarray | KernelResult"]


@dataclass(frozen=True)
class CaseResult:
    function: str
    case_id: str
    passed: bool
    kind: str = "ok"  # ok | mismatch | size | error | unknown function
    index: int | None = None  # first differing flat index
    expected: int | None = None
    got: int | None = None
    message: str = ""
    ticks: int | None = None

    def describe(self) -> str:
        if self.kind == "mismatch":
            return f"{self.case_id} [{self.index}]: expected {self.expected}, got {self.got}"
        return f"{self.case_id}: {self.message}" if self.case_id else self.message


@dataclass
class FunctionResult:
    function: str
    cases: list[CaseResult] = field(default_factory=list)
    known: bool = True

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed

    @property
    def first_failure(self) -> CaseResult | None:
        return next((c for c in self.cases if not c.passed), None)

    @property
    def median_ticks(self) -> float | None:
        ticks = [c.ticks for c in self.cases if c.ticks is not None]
        return statistics.median(ticks) if ticks else None


@dataclass
class ConformanceReport:
    directory: Path | str  # the set's folder, or what the cases were (random ones)
    variant: str
    functions: list[FunctionResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(f.passed for f in self.functions)

    @property
    def failed(self) -> int:
        return sum(f.failed for f in self.functions)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.passed > 0

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"


def reference_runner(variant: str = "dsp") -> KernelRunner:
    check_variant(variant)
    return lambda function, kwargs: call_kernel(function, variant, **kwargs)


def load_case(path: Path, function: str) -> tuple[dict[str, Any], np.ndarray]:
    """C-named arguments (scalars as ints) and the expected output of one case file."""
    spec = KERNEL_SPECS[function]
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ConfigError(
            f"{path}: not a readable .npz case file ({exc})", hint="regenerate or remove the file"
        ) from exc
    stored = str(arrays.get(FUNCTION_KEY, function))
    if stored != function:
        raise ConfigError(
            f"{path}: holds a case of {stored}, not {function}",
            hint="move the file to the folder named after its function",
        )
    if spec.output_key not in arrays:
        raise ConfigError(
            f"{path}: no expected output '{spec.output_key}'",
            hint="regenerate the case file (see FORMAT.md)",
        )
    expected = arrays[spec.output_key]
    kwargs: dict[str, Any] = {}
    for key, value in arrays.items():
        if key in _NOT_ARGUMENTS or key.endswith("__out"):
            continue
        if key == spec.output and not spec.in_place:
            continue
        kwargs[key] = int(value) if value.ndim == 0 else value
    return kwargs, expected


def run_case(path: Path, function: str, runner: KernelRunner) -> CaseResult:
    try:
        kwargs, expected = load_case(path, function)
    except ConfigError as exc:
        return CaseResult(function, path.stem, False, "error", message=exc.message)
    return judge_case(function, path.stem, kwargs, expected, runner)


def judge_case(
    function: str,
    case_id: str,
    kwargs: dict[str, Any],
    expected: np.ndarray,
    runner: KernelRunner,
) -> CaseResult:
    """Run one case's arguments through ``runner`` and compare with ``expected`` exactly."""
    try:
        result = runner(function, kwargs)
    except ConfigError as exc:
        return CaseResult(function, case_id, False, "error", message=exc.message)
    ticks = None
    if isinstance(result, KernelResult):
        result, ticks = result.output, result.ticks
    got = np.asarray(result).reshape(-1)
    want = expected.reshape(-1)
    if got.size != want.size:
        return CaseResult(
            function,
            case_id,
            False,
            "size",
            ticks=ticks,
            message=f"output has {got.size} elements, expected {want.size}",
        )
    diff = np.flatnonzero(got.astype(np.int64) != want.astype(np.int64))
    if diff.size:
        i = int(diff[0])
        return CaseResult(
            function,
            case_id,
            False,
            "mismatch",
            index=i,
            expected=int(want[i]),
            got=int(got[i]),
            ticks=ticks,
        )
    return CaseResult(function, case_id, True, ticks=ticks)


def _stored_function(path: Path) -> str | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return str(data[FUNCTION_KEY]) if FUNCTION_KEY in data.files else None
    except (OSError, ValueError, zipfile.BadZipFile):
        return None  # run_case reports the unreadable file


def _function_name(folder: Path, directory: Path) -> str:
    """The folder's name; a lone case folder under another name uses its files' function."""
    if folder == directory and folder.name not in KERNEL_SPECS:
        return _stored_function(next(folder.glob("*.npz"))) or folder.name
    return folder.name


def _function_folders(directory: Path) -> list[Path]:
    if directory.is_file():
        raise ConfigError(
            f"{directory} is a file; conformance takes a folder of golden vectors",
            hint=f"pass the folder holding it ({directory.parent}) or a folder "
            "of <function>/<case>.npz golden vectors",
        )
    if not directory.is_dir():
        raise ConfigError(
            f"conformance folder {directory} does not exist",
            hint="pass a folder of <function>/<case>.npz golden vectors",
        )
    if any(directory.glob("*.npz")):
        return [directory]
    return sorted(d for d in directory.iterdir() if d.is_dir() and any(d.glob("*.npz")))


def run_conformance(
    directory: Path,
    variant: str = "dsp",
    function: str | Collection[str] | None = None,
    kernel_runner: KernelRunner | None = None,
    skip: frozenset[str] = frozenset(),
    on_case: Callable[[str, str], None] | None = None,
) -> ConformanceReport:
    """Run every case under ``directory`` (a set, or one function's folder).

    ``function`` keeps only that function's cases (one name or several),
    ``skip`` leaves out functions by name; ``on_case(function, case_id)`` is
    called before each case (progress).

    A ConfigError from loading a case or from the runner (e.g. parameters the
    kernel rejects) fails that case as kind "error"; any other error (a dead
    device) propagates.
    """
    directory = Path(directory)
    check_variant(variant)
    runner = kernel_runner or reference_runner(variant)
    folders = [(f, _function_name(f, directory)) for f in _function_folders(directory)]
    if function is not None:
        wanted = {function} if isinstance(function, str) else set(function)
        available = [name for _, name in folders]
        missing = sorted(wanted - set(available))
        if missing:
            raise ConfigError(
                f"no vectors for function '{missing[0]}' in {directory}",
                hint="available: " + (", ".join(available) or "none"),
            )
        folders = [(f, name) for f, name in folders if name in wanted]
    folders = [(f, name) for f, name in folders if name not in skip]
    if not folders:
        raise ConfigError(
            f"no golden vectors (*.npz) in {directory}",
            hint="pass a folder holding <function>/<case>.npz files",
        )
    report = ConformanceReport(directory, variant)
    for folder, name in folders:
        cases = sorted(folder.glob("*.npz"))
        if name not in KERNEL_SPECS:
            result = FunctionResult(name, known=False)
            result.cases = [
                CaseResult(
                    name, c.stem, False, "unknown function", message=f"unknown function '{name}'"
                )
                for c in cases
            ]
        else:
            result = FunctionResult(name)
            for c in cases:
                if on_case is not None:
                    on_case(name, c.stem)
                result.cases.append(run_case(c, name, runner))
        report.functions.append(result)
    return report
