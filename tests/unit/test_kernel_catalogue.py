"""The kernel catalogue is the one description of each function: the device tables
generated from it are current, and the reference, the protocol and the C agree with it."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from hil.errors import KernelParameterError
from hil.kernels import FUNCTION_IDS, KERNEL_SPECS, KERNELS, Op
from hil.kernels.catalogue import CALL_SHAPES, NARROW_RANGES
from hil.protocol import generated as g
from hil.reference import PLANNERS
from hil.reference import spec as reference_spec
from hil.reference.validation import validate_params

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "firmware" / "src"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_kernels", REPO / "scripts" / "gen_kernels.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_are_up_to_date():
    for path, text in _generator().render().items():
        assert path.read_text() == text, f"{path.name} is stale: run scripts/gen_kernels.py"


def test_check_mode_reports_a_stale_table(tmp_path, monkeypatch, capsys):
    gen = _generator()
    stale = tmp_path / "kcall_tables.h"
    stale.write_text(gen.render_kcall().replace("arm_relu_q7", "arm_relu_q15"))
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    monkeypatch.setattr(gen, "render", lambda: {stale: gen.render_kcall()})
    assert gen.main(["--check"]) == 1
    assert "stale: kcall_tables.h" in capsys.readouterr().out
    stale.write_text(gen.render_kcall())
    assert gen.main(["--check"]) == 0


def test_a_rule_group_must_index_alike_in_every_kernel():
    gen = _generator()
    basic = KERNEL_SPECS["arm_convolve_HWC_q7_basic"]
    # Same rules, but ch_im_in and dim_im_in swapped in the argument list.
    args = tuple({"dim_im_in": "ch_im_in", "ch_im_in": "dim_im_in"}.get(a, a) for a in basic.args)
    with pytest.raises(SystemExit, match="sq_conv"):
        gen.render_kcheck([basic, replace(basic, name="arm_twisted", args=args)])


def test_every_reference_function_has_an_entry_and_back():
    assert set(KERNEL_SPECS) == set(PLANNERS)
    assert reference_spec.KERNEL_SPECS is KERNEL_SPECS
    assert reference_spec.FUNCTION_IDS is FUNCTION_IDS


def test_ids_are_one_based_in_catalogue_order_and_on_the_wire():
    assert [k.id for k in KERNELS] == list(range(1, len(KERNELS) + 1))
    assert g.FUNCTION_IDS == FUNCTION_IDS
    assert g.FUNCTION_N_PARAMS == {k.name: len(k.scalars) for k in KERNELS}


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_entries_name_only_their_own_scalars(kernel):
    scalars = set(kernel.scalars)
    pointers = {kernel.input, kernel.output, kernel.weights, kernel.bias} - {None}
    assert pointers <= set(kernel.args) and len(set(kernel.args)) == len(kernel.args)
    for rule in kernel.all_rules:
        assert set(rule.params) <= scalars, rule
    sizes = [kernel.input_size, kernel.output_size, kernel.scratch_size, kernel.macs]
    sizes += [s for s in (kernel.weights_size, kernel.bias_size) if s is not None]
    for s in sizes:
        assert set(s.factors) <= scalars, s
    assert (kernel.weights is None) == (kernel.weights_size is None)
    assert (kernel.bias is None) == (kernel.bias_size is None)
    assert kernel.enum_param is None or kernel.enum_param in scalars
    assert CALL_SHAPES[kernel.call] == len(kernel.scalars)
    assert kernel.in_place == (kernel.input == kernel.output)


def test_every_rule_text_is_a_complete_template():
    """Every field a message or hint names is one the interpreter fills in."""
    tried = 0
    for kernel in KERNELS:
        for rule in kernel.all_rules:
            fields = {f"p{i}": n for i, n in enumerate(rule.params)}
            fields |= {f"v{i}": 7 for i in range(len(rule.params))}
            text = rule.message.format(lo=rule.lo, hi=rule.hi, limit=3, **fields)
            hint = rule.hint.format(lo=rule.lo, hi=rule.hi, limit=3, **fields)
            assert "{" not in text + hint and text.startswith("= 7"), (kernel.name, rule)
            tried += 1
    assert tried > 60


def test_the_c_interpreter_and_call_macros_cover_the_catalogue():
    kcheck = (SRC / "kcheck.c").read_text()
    for op in Op:
        assert f"case KOP_{op.name}:" in kcheck, op
    kcall = (SRC / "kcall.c").read_text()
    defined = set(re.findall(r"^#define (\w+)\(f\)", kcall, re.M))
    assert {k.call for k in KERNELS} <= defined
    assert '#include "kcheck_tables.h"' in kcheck and '#include "kcall_tables.h"' in kcall


def test_uint16_limit_messages_name_the_narrow_range():
    p = {"dim_vec": 4, "num_of_rows": 2, "bias_shift": 0, "out_shift": 70000}
    lo, hi, why = NARROW_RANGES["out_shift"]
    with pytest.raises(KernelParameterError) as info:
        validate_params("arm_fully_connected_q7", p)
    assert str(info.value).startswith(
        f"arm_fully_connected_q7: out_shift = 70000 is outside {lo}..{hi} ({why})"
    )


def test_the_enum_parameter_skips_the_uint16_check_but_not_its_rule():
    p = {"size": 4, "int_width": 1, "type": -1}
    with pytest.raises(KernelParameterError, match="type = -1 is not an activation type"):
        validate_params("arm_nn_activations_direct_q7", p)
