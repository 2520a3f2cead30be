"""s8 (int8) kernel cases on a device, judged against the numpy reference.

``run_s8_differential`` sends each hil.validate.s8_random_cases case through
``runner`` (one KERNEL_RUN on an s8 image) and compares its output, byte for
byte, with ``hil.reference.s8.run_layer`` in the image's rounding. A kernel
that returns an error status or a call the device refuses fails the case
(kind "error"); the report is hil.validate.conformance's, so it renders and
judges as q7 conformance does. ``failure_lines`` names, per failing case, the
function, the case and its parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from hil.errors import ConfigError, KernelRefused
from hil.reference.s8 import run_layer
from hil.reference.s8.requantize import Rounding
from hil.validate.conformance import (
    ConformanceReport,
    FunctionResult,
    KernelResult,
    judge_case,
)
from hil.validate.s8_random_cases import S8Case

S8Runner = Callable[[S8Case], KernelResult]
OnCase = Callable[[str, str], None]


def reference_s8_output(case: S8Case, rounding: Rounding) -> np.ndarray:
    return run_layer(case.layer, case.x, rounding)


def run_s8_differential(
    cases: Mapping[str, Sequence[S8Case]],
    runner: S8Runner,
    rounding: Rounding,
    label: str,
    on_case: OnCase | None = None,
) -> tuple[ConformanceReport, list[S8Case]]:
    """Every case through ``runner``; the report and the failing cases, in order."""
    report = ConformanceReport(label, f"s8, {rounding} rounding")
    failing: list[S8Case] = []
    for function in cases:
        result = FunctionResult(function)
        report.functions.append(result)
        for case in cases[function]:
            if on_case is not None:
                on_case(function, case.case_id)
            expected = reference_s8_output(case, rounding)

            def run(_function: str, _kwargs: dict, case: S8Case = case) -> KernelResult:
                return runner(case)

            verdict = judge_case(function, case.case_id, {}, expected, run)
            result.cases.append(verdict)
            if not verdict.passed:
                failing.append(case)
    return report, failing


def device_s8_runner(session, counts) -> S8Runner:
    """Runs a case on ``session``'s s8 image; an error status or refusal is a ConfigError
    (a failed case), the count converted by ``counts``."""

    def run(case: S8Case) -> KernelResult:
        try:
            result = session.run_s8_kernel(case.function, case.params, case.x, case.arrays)
        except KernelRefused as exc:
            raise ConfigError(exc.message) from exc
        if result.status != 0:
            raise ConfigError(f"the device's {case.function} returned status {result.status}")
        return KernelResult(result.output, counts.convert(result.ticks))

    return run


def failure_lines(
    report: ConformanceReport, failing: Sequence[S8Case], limit: int = 10
) -> list[str]:
    """One line per failing case (up to ``limit``): function, case, what differed, parameters."""
    by_id = {c.case_id: c for c in failing}
    lines = []
    for f in report.functions:
        for verdict in f.cases:
            if verdict.passed or len(lines) >= limit:
                continue
            case = by_id.get(verdict.case_id)
            params = f"; parameters: {case.describe()}" if case is not None else ""
            lines.append(f"FAILED {f.function} {verdict.describe()}{params}")
    if len(failing) > limit:
        lines.append(f"... and {len(failing) - limit} more failing cases")
    return lines
