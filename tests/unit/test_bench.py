"""hil.bench.reference and `hil bench reference` (structure only: no timed assertions)."""

from __future__ import annotations

import pytest
from rich.console import Console

from hil.bench.reference import bench_network, bench_reference
from hil.cli import main
from hil.cli.bench import render_reference
from hil.errors import ConfigError
from hil.model.examples import build_example


def test_bench_network_records_every_layer_and_repetition():
    net = build_example("lenet5")
    result = bench_network(net, repeat=3, warmup=1)
    assert [name for name, _ in result.layers] == [layer.name for layer in net.layers]
    assert all(len(times) == 3 for times in result.layer_ms) and len(result.total_ms) == 3
    assert all(t >= 0 for t in result.total_ms)
    console = Console(record=True, width=120)
    render_reference(result, console)
    text = console.export_text()
    assert "fc1" in text and "arm_fully_connected_q7" in text
    assert text.rstrip().splitlines()[-1] == f"median {result.median_ms:.3f} ms per inference"


def test_bench_rejects_bad_options():
    with pytest.raises(ConfigError, match="repeat"):
        bench_network(build_example("lenet5"), repeat=0)
    with pytest.raises(ConfigError, match="resnet"):
        bench_reference("resnet", repeat=1)
    with pytest.raises(ConfigError, match="variant"):
        bench_reference("lenet5", repeat=1, variant="neon")


def test_cli_bench_reference(capsys):
    assert main(["bench", "reference", "--model", "lenet5", "--repeat", "2"]) == 0
    out = capsys.readouterr().out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("median ") and last.endswith(" ms per inference")
    float(last.split()[1])
    for layer in ("conv1", "pool2", "fc3", "softmax", "total"):
        assert layer in out


def test_link_table_shows_bytes_per_category_and_time_beyond_the_wire():
    from hil.bench.device import Baseline, LinkRow
    from hil.cli.bench import render_link_bench
    from hil.config.boards import load_board
    from hil.transport.wire_tap import CATEGORIES, WireAccount

    to_device = dict.fromkeys(CATEGORIES, 0) | {"input": 1152}
    to_host = dict.fromkeys(CATEGORIES, 0) | {"results": 288, "framing": 0}
    row = LinkRow(115200, "mismatch", 4, 0.5, 0.2, WireAccount(to_device, to_host, input_raw=1152))
    base = Baseline(compute_s=0.1, receive_s=0.01, reference_s=0.001, input_bytes=1152)
    # 1,440 bytes at 10 bits per byte and 115,200 baud take 0.125 s; 0.1 s is compute.
    assert row.beyond_wire_s(base) == pytest.approx(0.275)
    assert row.category_bytes("input") == 1152 and row.category_bytes("results") == 288
    console = Console(record=True, width=300)
    render_link_bench(load_board("qemu-m7"), build_example("lenet5"), base, [row], console)
    lines = console.export_text().splitlines()
    assert any("validation throughput: lenet5 on qemu-m7" in line for line in lines)
    (data,) = [line for line in lines if "115,200" in line]
    cells = [c.strip() for c in data.strip("│ ").split("│")]
    assert cells[:8] == ["115,200", "digest", "2.00", "0.500", "0.200", "2.50x", "2.50x", "1,440"]
    assert cells[8:] == ["1.250", "1,152", "1,152", "1.00", "0", "288", "0", "0", "0", "0.275"]
    assert lines[-1].startswith("device compute 100.0 ms per vector")
