"""hil.bench.reference and `hil bench reference` (structure only: no timed assertions)."""

from __future__ import annotations

import pytest
from rich.console import Console

from hil.bench.reference import bench_network, bench_reference, render_bench
from hil.cli import main
from hil.errors import ConfigError
from hil.model.examples import build_example


def test_bench_network_records_every_layer_and_repetition():
    net = build_example("lenet5")
    result = bench_network(net, repeat=3, warmup=1)
    assert [name for name, _ in result.layers] == [layer.name for layer in net.layers]
    assert all(len(times) == 3 for times in result.layer_ms) and len(result.total_ms) == 3
    assert all(t >= 0 for t in result.total_ms)
    console = Console(record=True, width=120)
    render_bench(result, console)
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
