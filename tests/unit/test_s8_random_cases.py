"""The s8 random case generator: reproducible, every function, edge cases every fifth,
valid for the reference and within the kernel arena; s8 option checks; the family check."""

from __future__ import annotations

import numpy as np
import pytest

from hil.cli import main
from hil.device.session import DeviceInfo, check_family
from hil.errors import ConfigError, DeviceError
from hil.kernels.s8 import S8_FUNCTION_IDS, S8_FUNCTIONS, region_bytes, region_data
from hil.protocol import generated as g
from hil.protocol.messages import pack
from hil.reference.s8 import FUNCTIONS, run_layer
from hil.validate.s8_random_cases import (
    EDGE_EVERY,
    generate_s8_cases,
    generate_s8_set,
    select_s8_functions,
)

ARENA = 64 * 1024


def test_the_ids_cover_every_reference_function_once():
    assert set(S8_FUNCTIONS) == set(FUNCTIONS)
    assert sorted(S8_FUNCTION_IDS.values()) == list(range(1, len(FUNCTIONS) + 1))


def test_the_same_seed_gives_the_same_cases_and_another_seed_others():
    a = generate_s8_set(S8_FUNCTIONS, 12, 7, ARENA)
    b = generate_s8_set(S8_FUNCTIONS, 12, 7, ARENA)
    for f in S8_FUNCTIONS:
        for x, y in zip(a[f], b[f]):
            assert x.params == y.params and np.array_equal(x.x, y.x)
            assert all(np.array_equal(x.arrays[k], y.arrays[k]) for k in x.arrays)
    other = generate_s8_cases("arm_convolve_wrapper_s8", 12, 8, ARENA)
    assert [c.params for c in other] != [c.params for c in a["arm_convolve_wrapper_s8"]]


def test_a_function_s_cases_do_not_depend_on_the_others_drawn():
    alone = generate_s8_set(["arm_softmax_s8"], 5, 1, ARENA)["arm_softmax_s8"]
    together = generate_s8_set(S8_FUNCTIONS, 5, 1, ARENA)["arm_softmax_s8"]
    assert [c.params for c in alone] == [c.params for c in together]


@pytest.mark.parametrize("function", S8_FUNCTIONS)
def test_cases_are_valid_for_the_reference_and_fit_the_arena(function):
    cases = generate_s8_cases(function, 60, 0, ARENA)
    assert [c.edge for c in cases] == [k % EDGE_EVERY == 0 for k in range(60)]
    f = FUNCTIONS[function]
    for case in cases:
        assert tuple(case.params) == f.scalars
        for rounding in ("double", "single"):
            out = run_layer(case.layer, case.x, rounding)  # does not raise
            assert out.size == f.output_size(case.params)
        sizes = region_bytes(function, case.params)
        assert sizes["input"] == case.x.size and sum(sizes.values()) <= ARENA // 2
        data = region_data(function, case.arrays)
        assert len(data["weights"]) == sizes["weights"] and len(data["bias"]) == sizes["bias"]
        if "shift" in case.arrays:
            assert case.arrays["shift"].min() >= -31 and case.arrays["shift"].max() <= 30


def test_cases_vary_shapes_strides_padding_and_dilation():
    cases = generate_s8_cases("arm_convolve_wrapper_s8", 100, 0, ARENA)
    for key in ("stride_h", "padding_h", "dilation_w", "input_c", "output_c", "input_offset"):
        assert len({c.params[key] for c in cases}) > 1, key
    assert any(c.params["input_h"] == c.params["input_w"] == 1 for c in cases if c.edge)
    assert len({int(m) for c in cases for m in c.arrays["multiplier"]}) > 50


def test_select_refuses_an_unknown_function():
    assert select_s8_functions(skip=["arm_softmax_s8"]) == list(S8_FUNCTIONS[:-1])
    with pytest.raises(ConfigError, match="arm_relu_q7 is not an s8 function"):
        select_s8_functions(["arm_relu_q7"])


def _info(family: int) -> DeviceInfo:
    return DeviceInfo.from_payload(
        pack(
            "hello",
            protocol_version=g.PROTOCOL_VERSION,
            protocol_hash=g.PROTOCOL_HASH,
            max_payload=g.MAX_PAYLOAD,
            family=family,
            rounding=g.ENUMS["rounding"]["DOUBLE"],
        )
    )


def test_hello_names_the_family_and_a_wrong_one_is_refused():
    s8 = _info(g.ENUMS["family"]["S8"])
    assert (s8.family, s8.rounding) == ("s8", "double")
    check_family(s8, "s8", "fix")
    with pytest.raises(DeviceError, match="holds the s8 kernel family, not q7"):
        check_family(s8, "q7", "fix")
    assert _info(0).family == "q7"  # the field was reserved (zero) before families


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--family", "s4", "--random", "1", "--board", "qemu-m7"], "no such kernel family"),
        (["--rounding", "single", "--random", "1", "--board", "qemu-m7"], "applies to the s8"),
        (["--family", "s8", "--generate", "out", "--board", "qemu-m7"], "not --generate"),
        (
            ["--family", "s8", "--random", "1", "--board", "qemu-m7", "--variant", "dsp"],
            "--variant",
        ),
        (["--family", "s8", "--random", "1", "--rounding", "half"], "use double or single"),
    ],
)
def test_s8_option_checks(args, message, capsys):
    assert main(["conformance", *args]) == 2
    assert message in " ".join(capsys.readouterr().err.split())
