"""Drawn cases written as golden vectors: the golden set's keys, order and dtypes, read
back by load_case, replayed by run_conformance; and the differential run and the
recording of a new set, on host runners."""

from __future__ import annotations

import numpy as np
import pytest

from hil.errors import ConfigError
from hil.reference import call_kernel, deinterleave_q7_opt_weights
from hil.reference.spec import KERNEL_SPECS
from hil.validate.conformance import load_case, reference_runner, run_conformance
from hil.validate.differential import record_golden, reference_output, run_differential
from hil.validate.golden_files import (
    README,
    case_arrays,
    case_path,
    check_new_set_dir,
    write_case,
    write_readme,
)
from hil.validate.random_cases import generate_set

FUNCTIONS = sorted(KERNEL_SPECS)
ARENA = 64 * 1024


@pytest.fixture(scope="module")
def cases() -> dict:
    return generate_set(FUNCTIONS, 3, 9, ARENA)


def _layout(arrays) -> list[tuple[str, str, int]]:
    return [(k, np.asarray(v).dtype.str[1:], np.asarray(v).ndim) for k, v in arrays.items()]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_keys_order_and_dtypes_are_the_golden_sets(vectors_dir, cases, tmp_path, function):
    golden = next((vectors_dir / function).glob("*.npz"))
    with np.load(golden) as g:
        want = [(k, d, n) for k, d, n in _layout({k: g[k] for k in g.files})]
    want = [w for w in want if w[0] != "Im_in__out"]  # a device run does not return it
    case = cases[function][-1]
    path = write_case(tmp_path, case, reference_output(case, "dsp"))
    assert path == tmp_path / function / f"{case.case_id}.npz"
    with np.load(path, allow_pickle=False) as d:
        got = _layout({k: d[k] for k in d.files})
        assert str(d["__function__"]) == function
    assert [(k, dt.lstrip("<|")) for k, dt, _ in got] == [(k, dt.lstrip("<|")) for k, dt, _ in want]
    assert [n for *_, n in got] == [n for *_, n in want]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_saved_case_reads_back_through_load_case(cases, tmp_path, function):
    for case in cases[function]:
        out = reference_output(case, "plain")
        path = write_case(tmp_path, case, out)
        kwargs, expected = load_case(path, function)
        assert kwargs.keys() == case.kwargs.keys()
        for name, value in case.kwargs.items():
            if isinstance(value, np.ndarray):
                assert kwargs[name].dtype == np.int8 and np.array_equal(kwargs[name], value)
            else:
                assert kwargs[name] == value and isinstance(kwargs[name], int)
        assert np.array_equal(expected, out)


def test_the_opt_weights_are_also_stored_row_major(cases):
    case = cases["arm_fully_connected_q7_opt"][-1]
    p = case.params
    arrays = case_arrays(case, reference_output(case, "dsp"))
    rowmajor = arrays["pM_rowmajor"]
    assert np.array_equal(
        rowmajor, deinterleave_q7_opt_weights(arrays["pM"], p["dim_vec"], p["num_of_rows"])
    )
    plain = call_kernel("arm_fully_connected_q7", "dsp", **{**case.kwargs, "pM": rowmajor})
    assert np.array_equal(plain, arrays["pOut"])


def _write_set(directory, cases, variant="dsp"):
    for fcases in cases.values():
        for case in fcases:
            write_case(directory, case, reference_output(case, variant))


def test_a_written_set_replays_and_a_wrong_expectation_fails(cases, tmp_path):
    _write_set(tmp_path, cases)
    readme = write_readme(tmp_path, "Test set", ["One.", "Two."], {"board": "qemu-m7", "seed": 9})
    report = run_conformance(tmp_path)
    total = sum(len(c) for c in cases.values())
    assert report.ok and report.passed == total
    text = readme.read_text()
    assert readme.name == README and "| board | qemu-m7 |" in text and "| seed | 9 |" in text
    assert f"{total} cases:" in text and "One.\n\nTwo." in text
    assert f"| arm_relu_q7 | {len(cases['arm_relu_q7'])} |" in text
    # Flip one expected value: exactly that case fails, at that element.
    case = cases["arm_softmax_q7"][-1]
    out = reference_output(case, "dsp").copy()
    out[0] = out[0] ^ 1
    write_case(tmp_path, case, out)
    report = run_conformance(tmp_path, function="arm_softmax_q7")
    (fn,) = report.functions
    assert fn.failed == 1 and fn.first_failure.case_id == case.case_id
    assert fn.first_failure.index == 0


def test_check_new_set_dir(tmp_path, cases):
    check_new_set_dir(tmp_path / "new", "--generate")
    check_new_set_dir(tmp_path, "--generate")  # empty
    case = cases["arm_relu_q7"][0]
    write_case(tmp_path / "old", case, reference_output(case, "dsp"))
    with pytest.raises(ConfigError, match="already holds golden vectors"):
        check_new_set_dir(tmp_path / "old", "--generate")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        check_new_set_dir(tmp_path / "file", "--save-failures")


def _off_by_one_on(function):
    right = reference_runner("dsp")

    def run(fn, kwargs):
        out = right(fn, kwargs)
        if fn == function:
            out = out.copy()
            out[-1] = np.int8(int(out[-1]) - 1 if out[-1] > -128 else 127)
        return out

    return run


def test_differential_run_reports_and_hands_over_each_failure(cases):
    seen = []
    report = run_differential(
        cases,
        _off_by_one_on("arm_relu_q7"),
        "dsp",
        "3 random + edge cases per function, seed 9",
        on_failure=lambda case, expected: seen.append((case, expected)),
    )
    relu = next(f for f in report.functions if f.function == "arm_relu_q7")
    assert relu.failed == len(cases["arm_relu_q7"]) == report.failed == len(seen)
    assert [f.function for f in report.functions] == FUNCTIONS
    for case, expected in seen:
        assert np.array_equal(expected, reference_output(case, "dsp"))
    assert report.summary() == f"{report.passed} passed, {report.failed} failed"
    assert run_differential(cases, reference_runner("dsp"), "dsp", "x").ok


def test_recording_writes_what_the_runner_computes(cases, tmp_path):
    wrong = _off_by_one_on("arm_softmax_q7")

    def runner(fn, kwargs):
        if fn == "arm_relu_q7" and kwargs["size"] == 1:
            raise ConfigError("the device's arm_relu_q7 returned status -3")
        return wrong(fn, kwargs)

    recorded = record_golden(cases, runner, lambda case, out: write_case(tmp_path, case, out))
    refused = [c for c in cases["arm_relu_q7"] if c.params["size"] == 1]
    assert refused and len(recorded.refused) == len(refused)
    assert recorded.written == sum(len(c) for c in cases.values()) - len(refused)
    assert not case_path(tmp_path, refused[0]).exists()
    # The set holds the runner's outputs: the host reference disagrees exactly on softmax.
    report = run_conformance(tmp_path)
    failed = {f.function for f in report.functions if f.failed}
    assert failed == {"arm_softmax_q7"}
