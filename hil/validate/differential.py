"""Generated cases on a kernel runner (a device): judged against the host reference,
or recorded as a new golden set.

``run_differential`` compares each case's device output with the host
reference of the device's variant and hands every failing case, with the
reference's output as its expected output, to ``on_failure`` as soon as it is
found (so a run cut short keeps what it found). ``record_golden`` stores
what the runner computes as the expected outputs, whatever library it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from hil.errors import ConfigError
from hil.reference import call_kernel
from hil.validate.conformance import (
    ConformanceReport,
    FunctionResult,
    KernelResult,
    KernelRunner,
    judge_case,
)
from hil.validate.random_cases import Case

CaseSet = Mapping[str, Sequence[Case]]
OnCase = Callable[[str, str], None]


def reference_output(case: Case, variant: str) -> np.ndarray:
    return call_kernel(case.function, variant, **case.kwargs)


def run_differential(
    cases: CaseSet,
    runner: KernelRunner,
    variant: str,
    label: str,
    on_case: OnCase | None = None,
    on_failure: Callable[[Case, np.ndarray], None] | None = None,
) -> ConformanceReport:
    """Every case through ``runner``, judged against the ``variant`` host reference."""
    report = ConformanceReport(label, variant)
    for function in sorted(cases):
        result = FunctionResult(function)
        report.functions.append(result)
        for case in cases[function]:
            if on_case is not None:
                on_case(function, case.case_id)
            expected = reference_output(case, variant)
            verdict = judge_case(function, case.case_id, case.kwargs, expected, runner)
            result.cases.append(verdict)
            if not verdict.passed and on_failure is not None:
                on_failure(case, expected)
    return report


@dataclass
class RecordedSet:
    written: int = 0
    # (function, case_id, why): cases the runner refused, not written.
    refused: list[tuple[str, str, str]] = field(default_factory=list)


def record_golden(
    cases: CaseSet,
    runner: KernelRunner,
    write: Callable[[Case, np.ndarray], object],
    on_case: OnCase | None = None,
) -> RecordedSet:
    """``write(case, output)`` for every case, ``output`` being what ``runner`` computed.

    A case the runner refuses (a ConfigError: the kernel returned an error
    status) is listed, not written: there is no output to record.
    """
    recorded = RecordedSet()
    for function in sorted(cases):
        for case in cases[function]:
            if on_case is not None:
                on_case(function, case.case_id)
            try:
                result = runner(function, case.kwargs)
            except ConfigError as exc:
                recorded.refused.append((function, case.case_id, exc.message))
                continue
            if isinstance(result, KernelResult):
                result = result.output
            write(case, np.asarray(result))
            recorded.written += 1
    return recorded
