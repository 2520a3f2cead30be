"""The size report of `hil export` (hil.export.sizes): every C file of an export
cross-compiled for the board's core and sized by section kind."""

from __future__ import annotations

import re

import pytest

from hil.cli import main
from hil.config.boards import load_board
from hil.export.files import build_export
from hil.export.sizes import measure_export
from hil.model.io import load_model

from helpers.cmsis_trees import cmsis5

pytestmark = pytest.mark.needs_arm_gcc


def macro(header: str, name: str) -> int:
    found = re.search(rf"#define {name} (\d+)u", header)
    assert found is not None, name
    return int(found.group(1))


@pytest.mark.parametrize(("model", "board"), [("cifar10", "qemu-m7"), ("lenet5-mnist", "qemu-m3")])
def test_every_file_is_sized_and_the_weights_are_in_flash(model, board):
    net = load_model(model)
    export = build_export(net, "net")
    report = measure_export(export, load_board(board))
    assert report.measured and report.note is None
    assert [o.source for o in report.objects] == export.module_sources + export.kernel_sources
    weights = sum(
        a.size for layer in net.layers for a in (layer.weights, layer.bias) if a is not None
    )
    assert report.object("net_weights.c").rodata >= weights == report.weights
    assert all(o.text > 0 for o in report.objects if o.source != "net_weights.c")
    assert report.total("flash") == sum(o.text + o.rodata + o.data for o in report.objects)
    header = export.files["net.h"].decode()
    assert report.scratch == macro(header, "NET_SCRATCH_SIZE")
    assert report.input == macro(header, "NET_INPUT_SIZE")
    assert report.output == macro(header, "NET_OUTPUT_SIZE")
    assert report.total("ram") == 0  # the module keeps no state: all RAM is the caller's


def test_the_core_changes_the_code_not_the_weights():
    export = build_export(load_model("cifar10"), "net")
    m7 = measure_export(export, load_board("qemu-m7"))
    m3 = measure_export(export, load_board("qemu-m3"))
    assert "-mcpu=cortex-m7" in m7.cflags and "-mcpu=cortex-m3" in m3.cflags
    assert m7.total("rodata") == m3.total("rodata")
    assert m7.total("text") != m3.total("text")  # the SIMD paths exist on the M7 only


def test_the_command_prints_the_table(tmp_path, capsys):
    assert main(["export", "--out", str(tmp_path / "out"), "-b", "qemu-m7"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    report = measure_export(build_export(load_model("cifar10"), "cifar10"), load_board("qemu-m7"))
    assert f"module, total │ {report.total('text'):,} │ {report.total('rodata'):,}" in text
    assert re.search(rf"RAM you provide[ │]*{report.caller_ram:,} │", text)


def test_a_cmsis_nn_that_does_not_compile_still_exports(tmp_path, capsys, monkeypatch):
    # The fake checkout has no arm_nn_math_types.h: the module cannot compile against it.
    monkeypatch.delenv("HIL_CMSIS_CORE", raising=False)
    root = cmsis5(tmp_path / "cmsis5")
    out = tmp_path / "out"
    args = ["export", "--out", str(out), "--backend", "cmsis-nn", "--cmsis-nn", str(root)]
    assert main(args) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert (out / "cifar10.h").is_file() and "export hash" in text
    assert "no size report: arm-none-eabi-gcc failed on cifar10.c" in text
    assert "arm_nn_math_types.h" in text
