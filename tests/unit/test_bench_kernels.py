"""hil.bench.kernels and the tables of `hil bench kernels`, on made-up per-layer counts
(no build, no device)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from hil.bench.kernels import KernelBench, LayerCounts, ModelCounts, layer_medians
from hil.cli import main
from hil.cli.bench import render_kernel_bench
from hil.config.boards import load_board
from hil.device.counts import CountSource
from hil.device.target import Target
from hil.errors import MismatchError
from hil.model.examples import build_example
from hil.validate.compare import LayerVerdict
from hil.validate.run_report import RunInfo, RunReport


def _bench(genuine: bool = True) -> KernelBench:
    def layer(i, name, function, portable, against):
        return LayerCounts(i, name, function, portable, against if genuine else None)

    first = ModelCounts(
        "net-a",
        (
            layer(0, "conv1", "arm_convolve_HWC_q7_fast", 900, 1000),
            layer(1, "relu1", "arm_relu_q7", 30, 10),
            layer(2, "fc1", "arm_fully_connected_q7", 200, 200),
        ),
    )
    second = ModelCounts(
        "net-b",
        (
            layer(0, "conv1", "arm_convolve_HWC_q7_fast", 1200, 1000),
            layer(1, "relu1", "arm_relu_q7", 20, 10),
        ),
    )
    return KernelBench(
        board="qemu-m7",
        unit="instructions",
        source="qemu-icount",
        vectors=2,
        seed=0,
        genuine_library=Path("/opt/CMSIS_5") if genuine else None,
        models=(first, second),
    )


def _rows(text: str, first_cell: str) -> list[list[str]]:
    """Cells of every table row whose first non-empty cell is ``first_cell``."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if [c for c in cells if c][:1] == [first_cell]:
            rows.append(cells)
    return rows


def test_functions_sum_every_models_layers_and_count_those_above_genuine():
    bench = _bench()
    by_name = {f.function: f for f in bench.functions()}
    assert list(by_name) == sorted(by_name)
    conv = by_name["arm_convolve_HWC_q7_fast"]
    assert (conv.layers, conv.portable, conv.genuine) == (2, 2100, 2000)
    assert conv.ratio == pytest.approx(1.05) and conv.above
    relu = by_name["arm_relu_q7"]
    assert (relu.layers, relu.portable, relu.genuine, relu.ratio) == (2, 50, 20, 2.5)
    fc = by_name["arm_fully_connected_q7"]
    assert fc.ratio == 1.0 and not fc.above  # equal counts are not above
    assert (bench.total.layers, bench.total.portable, bench.total.genuine) == (5, 2350, 2220)
    assert bench.models[0].total.portable == 1130 and bench.models[0].total.genuine == 1210
    # relu1 twice and net-b's conv1; net-a's conv1 is below, fc1 equal.
    assert bench.layers_above() == 3
    assert bench.above_text() == "3 of 5 layers above the genuine library"


def test_tables_show_counts_ratios_totals_and_the_layers_above():
    console = Console(record=True, width=200)
    render_kernel_bench(_bench(), console)
    text = console.export_text()
    assert text.splitlines()[0] == "portable kernels against the genuine CMSIS-NN at /opt/CMSIS_5"
    assert "net-a on qemu-m7: instructions (qemu-icount), median of 2 vectors" in text
    assert "per function (net-a, net-b): instructions (qemu-icount)" in text
    assert _rows(text, "0")[0] == ["0", "conv1", "arm_convolve_HWC_q7_fast", "900", "1,000", "0.90"]
    assert ["", "total", "", "1,130", "1,210", "0.93"] in _rows(text, "total")
    assert _rows(text, "arm_relu_q7") == [["arm_relu_q7", "2", "50", "20", "2.50"]]
    assert ["total", "5", "2,350", "2,220", "1.06"] in _rows(text, "total")
    assert text.rstrip().splitlines()[-1] == "3 of 5 layers above the genuine library"


def test_only_ratios_above_one_are_coloured():
    console = Console(record=True, width=200, force_terminal=True, color_system="standard")
    render_kernel_bench(_bench(), console)
    styled = console.export_text(styles=True)
    red = "\x1b[31m"
    assert f"{red}2.50" in styled and f"{red}1.20" in styled  # relu, net-b's conv1
    assert f"{red}0.90" not in styled and f"{red}1.00" not in styled and "0.90" in styled


def test_a_ratio_just_above_one_does_not_print_as_one():
    bench = KernelBench(
        "qemu-m7",
        "instructions",
        "qemu-icount",
        1,
        0,
        Path("/opt/CMSIS_5"),
        (ModelCounts("m", (LayerCounts(0, "conv1", "arm_relu_q7", 1003, 1000),)),),
    )
    console = Console(record=True, width=200)
    render_kernel_bench(bench, console)
    assert _rows(console.export_text(), "0")[0][-1] == "1.003"


def test_without_a_genuine_library_only_the_portable_column():
    bench = _bench(genuine=False)
    assert bench.layers_above() == 0 and bench.total.genuine is None
    console = Console(record=True, width=200)
    render_kernel_bench(bench, console)
    text = console.export_text()
    # The title stays on one line over this narrower table.
    assert text.splitlines()[0].strip() == (
        "net-a on qemu-m7: instructions (qemu-icount), median of 2 vectors"
    )
    assert "genuine" not in text.splitlines()[2]  # the first table's header
    assert _rows(text, "0")[0] == ["0", "conv1", "arm_convolve_HWC_q7_fast", "900"]
    assert ["total", "5", "2,350"] in _rows(text, "total")
    assert text.rstrip().splitlines()[-1].startswith("portable kernels only: add --cmsis-nn")


def test_the_json_holds_the_same_numbers():
    data = json.loads(json.dumps(_bench().to_dict()))
    assert data["count_unit"] == "instructions" and data["count_source"] == "qemu-icount"
    assert data["genuine_library"] == "/opt/CMSIS_5" and data["layers_above_genuine"] == 3
    assert [m["model"] for m in data["models"]] == ["net-a", "net-b"]
    assert data["models"][1]["layers"][0] == {
        "index": 0,
        "name": "conv1",
        "function": "arm_convolve_HWC_q7_fast",
        "portable": 1200,
        "genuine": 1000,
        "ratio": 1.2,
    }
    assert data["total"] == {"portable": 2350, "genuine": 2220, "ratio": 2350 / 2220}
    assert {f["function"]: f["layers"] for f in data["functions"]}["arm_relu_q7"] == 2
    portable_only = _bench(genuine=False).to_dict()
    assert portable_only["layers_above_genuine"] is None
    assert portable_only["functions"][0]["ratio"] is None


def _judged(ticks_per_vector: list[list[int]], wrong: tuple[int, int] | None = None):
    """A lenet5 report with the given ticks per (vector, layer); ``wrong`` differs."""
    net = build_example("lenet5")
    report = RunReport(
        net, RunInfo(net.name, "qemu-m7", "dsp", "portable", CountSource("x", "instructions", 2.0))
    )
    for v, ticks in enumerate(ticks_per_vector):
        report.add_vector(
            [
                LayerVerdict(v, i, (v, i) != wrong, 0, 0, None, None, None, t, False)
                for i, t in enumerate(ticks)
            ]
        )
    target = Target(load_board("qemu-m7"), net, "lenet5", Path("build"))
    return report, target


def test_layer_medians_are_the_median_counts_over_the_vectors():
    layers = len(build_example("lenet5").layers)
    report, target = _judged([[10] * layers, [30] * layers, [14] * layers])
    assert layer_medians(report, target) == [28] * layers  # median 14 ticks, 2 per tick


def test_a_mismatch_fails_the_bench():
    layers = len(build_example("lenet5").layers)
    report, target = _judged([[10] * layers, [10] * layers], wrong=(1, 3))
    with pytest.raises(MismatchError, match=r"layer 3 conv2 \(arm_convolve_HWC_q7_fast\)") as e:
        layer_medians(report, target)
    assert "portable kernels" in e.value.message
    assert "hil run --board qemu-m7 --model lenet5" in (e.value.hint or "")


@pytest.mark.parametrize(
    ("args", "words"),
    (
        (["--vectors", "0"], "--vectors 0 must be at least 1"),
        (["--model", "lenet5", "--model", "lenet5"], "--model lenet5 given twice"),
    ),
)
def test_bad_options_are_refused_before_any_build(args, words, tmp_path, capsys):
    assert main(["bench", "kernels", "--build-dir", str(tmp_path), *args]) == 2
    captured = capsys.readouterr()
    assert words in captured.out + captured.err
    assert not any(tmp_path.iterdir())
