"""`hil bench device` on QEMU: the wire's bytes per vector, by category, in its JSON.

Bytes are counted, not timed, so they are asserted; the times are a
benchmark and only reported (docs/performance.md).
"""

from __future__ import annotations

import json

import pytest

from hil.cli import main

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]


def _bench(tmp_path, *args: str) -> dict:
    out = tmp_path / "bench.json"
    code = main(
        ["bench", "device", "--board", "qemu-m7", "--full-vectors", "1", "--json", str(out)]
        + ["--build-dir", str(tmp_path / "build"), *args]
    )
    assert code == 0
    return json.loads(out.read_text())


def _digest_row(doc: dict) -> dict:
    (row,) = [r for r in doc["rows"] if r["dump"] == "digest"]
    return row


def test_random_cifar10_inputs_cost_under_five_percent_more_than_the_input(tmp_path):
    doc = _bench(tmp_path, "--model", "cifar10", "--baud", "2000000", "--vectors", "3")
    assert doc["inputs"] == "random" and doc["baseline"]["input_bytes"] == 3072
    row = _digest_row(doc)
    wire = row["bytes_per_vector"]
    assert wire["per_input_byte"] <= 1.05, wire
    assert wire["to_device"]["input"] == wire["input_raw"] == 3072  # random data goes raw
    assert row["input_coding_ratio_per_vector"] == [1.0, 1.0, 1.0]
    # One RESULT a vector: 9 bytes and the counts, as deltas after the first vector.
    assert wire["to_host"]["results"] < 100
    assert wire["to_host"]["acks"] == 0 and wire["to_host"]["outputs"] == 0
    assert wire["unparsed"] == 0
    (full,) = [r for r in doc["rows"] if r["dump"] == "all"]
    assert full["bytes_per_vector"]["to_host"]["outputs"] > 80_000


def test_held_out_mnist_images_go_zero_run_coded(tmp_path):
    doc = _bench(
        tmp_path,
        "--model",
        "lenet5-mnist",
        "--dataset",
        "mnist-test",
        "--baud",
        "115200",
        "--vectors",
        "4",
    )
    assert doc["inputs"] == {"dataset": "mnist-test"}
    row = _digest_row(doc)
    wire = row["bytes_per_vector"]
    assert wire["input_raw"] == 784
    assert wire["to_device"]["input"] < 0.4 * 784
    assert len(row["input_coding_ratio_per_vector"]) == 4
    assert all(r < 0.5 for r in row["input_coding_ratio_per_vector"])
    assert row["input_coding_ratio"] == pytest.approx(wire["to_device"]["input"] / 784)
    # Everything on the wire, both ways, is under half the raw input.
    assert wire["per_input_byte"] < 0.5
