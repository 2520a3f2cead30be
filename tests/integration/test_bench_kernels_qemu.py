"""`hil bench kernels` on qemu-m7: every layer of the model judged, and counted, with the
portable kernels (the genuine CMSIS-NN is not installed in CI); a wrong kernel fails the
bench instead of giving a count. Launches qemu-system-arm."""

from __future__ import annotations

import json

import pytest

from hil.bench.kernels import bench_kernels
from hil.cli import main
from hil.config.boards import load_board
from hil.device.target import Target
from hil.errors import MismatchError
from hil.model.examples import build_example

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]


def test_bench_kernels_counts_every_layer_of_lenet5(tmp_path, capsys, qemu_children):
    out_json = tmp_path / "kernels.json"
    args = ["bench", "kernels", "--board", "qemu-m7", "--model", "lenet5", "--vectors", "1"]
    code = main([*args, "--build-dir", str(tmp_path / "build"), "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "lenet5 on qemu-m7: instructions (qemu-icount), median of 1 vector" in out
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 4 and cells[0].isdigit():  # #, layer, function, portable
            rows[int(cells[0])] = cells
    net = build_example("lenet5")
    assert sorted(rows) == list(range(len(net.layers)))
    for i, layer in enumerate(net.layers):
        _, name, function, count = rows[i]
        assert (name, function) == (layer.name, layer.function)
        assert int(count.replace(",", "")) > 0, rows[i]
    assert "portable kernels only" in out
    data = json.loads(out_json.read_text())
    (model,) = data["models"]
    assert [x["function"] for x in model["layers"]] == [layer.function for layer in net.layers]
    assert [x["portable"] for x in model["layers"]] == [
        int(rows[i][3].replace(",", "")) for i in range(len(net.layers))
    ]
    assert data["genuine_library"] is None and all(x["genuine"] is None for x in model["layers"])
    assert not qemu_children()


def test_a_wrong_kernel_fails_the_bench(tmp_path, qemu_children):
    # The firmware built to corrupt conv2's output: its count must not be reported.
    net = build_example("lenet5")
    target = Target(
        load_board("qemu-m7"), net, "lenet5", tmp_path / "build", inject_fault=(3, "off-by-one")
    )
    with pytest.raises(MismatchError, match=r"layer 3 conv2 .* differs from the reference"):
        bench_kernels([target], vectors=1)
    assert not qemu_children()
