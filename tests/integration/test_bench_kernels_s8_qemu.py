"""`hil bench kernels` on s8 (int8) models on qemu-m7: every layer of an int8 CNN judged
bit-exactly and counted under the CMSIS-NN s8 function names, beside a q7 model built as
its own image; with $CMSIS_NN_PATH (a CMSIS-NN >= 4.0 checkout) against the genuine
library too. Launches qemu-system-arm."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hil.cli import main
from hil.model.examples import build_example
from hil.model.io import load_any_model

from helpers.s8_model_file import write_s8_model

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]


@pytest.fixture(scope="module")
def s8_model(tmp_path_factory) -> Path:
    return write_s8_model(tmp_path_factory.mktemp("s8-bench"))


@pytest.fixture(scope="module")
def s8_net(s8_model):
    return load_any_model(s8_model)


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hil-build-bench-s8")


def _rows(out: str) -> dict[str, dict[int, list[str]]]:
    """Per model table (by its title's model name): layer index -> its cells."""
    tables: dict[str, dict[int, list[str]]] = {}
    current = None
    for line in out.splitlines():
        if " on qemu-m7: " in line:
            current = tables.setdefault(line.split()[0], {})
            continue
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if current is not None and len(cells) >= 4 and cells[0].isdigit():
            current[int(cells[0])] = cells
    return tables


def _count(cell: str) -> int:
    return int(cell.replace(",", ""))


def test_bench_kernels_counts_an_s8_model_beside_a_q7_one(
    s8_model, s8_net, build_root, tmp_path, capsys, qemu_children
):
    out_json = tmp_path / "kernels.json"
    args = ["bench", "kernels", "--board", "qemu-m7", "--model", str(s8_model), "--model",
            "lenet5", "--vectors", "1", "--build-dir", str(build_root), "--json", str(out_json)]  # fmt: skip
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out
    tables = _rows(out)
    q7_net = build_example("lenet5")
    for net in (s8_net, q7_net):
        rows = tables[net.name]
        assert sorted(rows) == list(range(len(net.layers))), out
        for i, layer in enumerate(net.layers):
            _, name, function, count = rows[i][:4]
            assert (name, function) == (layer.name, layer.function)
            assert _count(count) > 0, rows[i]
    assert tables["cnn"][1][2] == "arm_depthwise_conv_wrapper_s8"
    data = json.loads(out_json.read_text())
    functions = {f["function"]: f for f in data["functions"]}
    # Each family keeps its own function names; the per-function sums hold both models.
    assert {"arm_convolve_wrapper_s8", "arm_softmax_s8", "arm_convolve_HWC_q7_basic"} <= set(
        functions
    )
    assert functions["arm_convolve_wrapper_s8"]["layers"] == 2
    s8_counts = [x["portable"] for x in data["models"][0]["layers"]]
    assert functions["arm_convolve_wrapper_s8"]["portable"] == s8_counts[0] + s8_counts[3]
    assert data["total"]["portable"] == sum(m["total"]["portable"] for m in data["models"])
    # Two models, two images: one per family.
    images = {p.parent for p in build_root.rglob("*.elf")}
    assert len(images) >= 2, images
    assert not qemu_children()


def test_bench_kernels_against_the_genuine_s8_library(
    s8_model, s8_net, build_root, tmp_path, capsys, qemu_children
):
    root = os.environ.get("CMSIS_NN_PATH")
    if not root:
        pytest.skip("set CMSIS_NN_PATH to a CMSIS-NN (>= 4.0) checkout to bench against it")
    if not (Path(root) / "Source" / "ConvolutionFunctions" / "arm_convolve_wrapper_s8.c").is_file():
        pytest.fail(f"CMSIS_NN_PATH={root} is not a CMSIS-NN >= 4.0 checkout")
    out_json = tmp_path / "kernels.json"
    args = ["bench", "kernels", "--board", "qemu-m7", "--model", str(s8_model), "--vectors",
            "1", "--cmsis-nn", root, "--build-dir", str(build_root), "--json", str(out_json)]  # fmt: skip
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out  # every layer of both libraries equal to the reference
    assert f"portable kernels against the genuine CMSIS-NN at {root}" in out
    assert f"of {len(s8_net.layers)} layers above the genuine library" in out
    (model,) = json.loads(out_json.read_text())["models"]
    assert [x["function"] for x in model["layers"]] == [layer.function for layer in s8_net.layers]
    for layer in model["layers"]:
        assert layer["portable"] > 0 and layer["genuine"] > 0, layer
        assert layer["ratio"] == pytest.approx(layer["portable"] / layer["genuine"])
    assert not qemu_children()


def test_a_wrong_s8_kernel_fails_the_bench(s8_net, build_root, qemu_children):
    # The firmware built to corrupt the depthwise layer's output: no count may come of it.
    from hil.bench.kernels import bench_kernels
    from hil.config.boards import load_board
    from hil.device.target import Target
    from hil.errors import MismatchError

    target = Target(
        load_board("qemu-m7"), s8_net, "cnn", build_root, inject_fault=(1, "off-by-one")
    )
    with pytest.raises(
        MismatchError, match=r"layer 1 dwconv1 \(arm_depthwise_conv_wrapper_s8\) differs"
    ):
        bench_kernels([target], vectors=1)
    assert not qemu_children()
