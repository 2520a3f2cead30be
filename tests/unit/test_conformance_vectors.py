"""Every golden vector through the host reference, both variants (FORMAT.md)."""

from __future__ import annotations

import pytest

from hil.reference.spec import KERNEL_SPECS, VARIANT_DEPENDENT
from hil.validate.conformance import run_conformance

FUNCTIONS = sorted(KERNEL_SPECS)
COMMON = sorted(set(KERNEL_SPECS) - VARIANT_DEPENDENT)


def _assert_all_pass(report):
    assert report.functions, "no cases found"
    for f in report.functions:
        first = f.first_failure
        assert f.failed == 0, f"{f.function}: {first.describe() if first else ''}"
    return report.passed


@pytest.mark.parametrize("function", FUNCTIONS)
def test_dsp_reference_matches_every_case(vectors_dir, function):
    report = run_conformance(vectors_dir, variant="dsp", function=function)
    assert _assert_all_pass(report) == len(list((vectors_dir / function).glob("*.npz")))


@pytest.mark.parametrize("function", sorted(VARIANT_DEPENDENT))
def test_plain_pooling_matches_plain_vectors(plain_vectors_dir, function):
    report = run_conformance(plain_vectors_dir, variant="plain", function=function)
    assert _assert_all_pass(report) == 48


@pytest.mark.parametrize("function", COMMON)
def test_plain_variant_matches_main_set_outside_pooling(vectors_dir, function):
    _assert_all_pass(run_conformance(vectors_dir, variant="plain", function=function))


@pytest.mark.parametrize("function", sorted(VARIANT_DEPENDENT))
def test_variants_really_differ_on_pooling(vectors_dir, function):
    # The DSP golden pooling outputs are not textbook pooling: plain must miss some.
    report = run_conformance(vectors_dir, variant="plain", function=function)
    assert report.failed > 0
