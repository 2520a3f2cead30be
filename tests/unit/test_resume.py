"""--resume: reading a partial run log, refusing another run's log."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest

from hil.device.counts import count_source
from hil.errors import ConfigError
from hil.model import Layer, Network
from hil.validate.compare import LayerVerdict, compare_layer
from hil.validate.resume import LazyLog, check_same_run, inputs_digest, read_log
from hil.validate.run_report import DeviceFailure, RunInfo, RunReport

RUN = {
    "record": "run",
    "model": "m",
    "board": "b",
    "inputs_sha256": "x" * 64,
    "device": {"model_hash": "0102"},
}


def verdict(vector: int, layer: int) -> dict:
    v = LayerVerdict(vector, layer, True, 0, 0, None, None, None, 100 + layer, False)
    return {"record": "layer", **asdict(v)}


def write_log(path, records, tail: str = "") -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)


def test_keeps_complete_vectors_and_drops_a_half_written_one(tmp_path):
    log = tmp_path / "run.jsonl"
    records = [RUN] + [verdict(v, l) for v in range(3) for l in range(2)] + [verdict(3, 0)]
    write_log(log, records, tail='{"record": "layer", "vec')  # killed mid-line
    prev = read_log(log, num_layers=2)
    assert prev.done == 3
    assert [[v.layer for v in vec] for vec in prev.vectors] == [[0, 1]] * 3
    assert prev.vectors[2][1].ticks == 101


def test_a_gap_ends_the_kept_prefix(tmp_path):
    log = tmp_path / "run.jsonl"
    write_log(log, [RUN, verdict(0, 0), verdict(0, 1), verdict(2, 0), verdict(2, 1)])
    assert read_log(log, num_layers=2).done == 1


def test_a_lost_device_in_the_log_does_not_stop_the_resume(tmp_path):
    # Written by a run report as a sharded run does: vector 1's device was lost, and
    # vector 1 was judged after vector 2 on another device.
    net = Network(
        "tiny", (4,), tuple(Layer(f"relu{i}", "arm_relu_q7", {"size": 4}) for i in range(2))
    )
    info = RunInfo(
        "tiny", "b", "dsp", "portable", count_source("dwt", emulated=False, icount_shift=None)
    )
    x = np.arange(4, dtype=np.int8)
    path = tmp_path / "run.jsonl"
    with path.open("w") as log:
        report = RunReport(net, info, log=log)
        report.add_vector([compare_layer(0, i, x, x, None, 10) for i in range(2)], device="a")
        report.add_device_failure(DeviceFailure("b", 1, "the device is gone: b", True))
        for vector in (2, 1):
            report.add_vector(
                [compare_layer(vector, i, x, x, None, 10) for i in range(2)], device="a"
            )
    assert '"record": "device_failure"' in path.read_text()
    prev = read_log(path, num_layers=2)
    assert prev.done == 3
    assert [[(v.vector, v.layer) for v in vec] for vec in prev.vectors] == [
        [(n, 0), (n, 1)] for n in range(3)
    ]


@pytest.mark.parametrize(
    "content, match",
    [
        (None, "no log"),
        ("", "not a hil run log"),
        ('{"record": "layer"}\n', "not a hil run log"),
    ],
)
def test_refuses_what_is_not_a_run_log(tmp_path, content, match):
    log = tmp_path / "run.jsonl"
    if content is not None:
        log.write_text(content)
    with pytest.raises(ConfigError, match=match):
        read_log(log, num_layers=2)


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("model", "other", "the logged run used --model m, this one --model other"),
        ("board", "qemu-m3", "the logged run used --board b, this one --board qemu-m3"),
        ("inputs_sha256", "y" * 64, "was written for inputs of another run"),
        ("device.model_hash", "ffff", "model_hash '0102'"),
    ],
)
def test_refuses_another_run(tmp_path, key, value, match):
    log = tmp_path / "run.jsonl"
    write_log(log, [RUN])
    with pytest.raises(ConfigError, match=match):
        check_same_run(read_log(log, 2), {key: value}, log)


def test_inputs_digest_sees_values_shape_and_dtype():
    x = np.zeros((2, 4), np.int8)
    assert inputs_digest(x) == inputs_digest(x.copy())
    assert inputs_digest(x) != inputs_digest(x.reshape(4, 2))
    y = x.copy()
    y[1, 3] = 1
    assert inputs_digest(x) != inputs_digest(y)


def test_lazy_log_leaves_the_old_file_until_the_first_write(tmp_path):
    log = tmp_path / "run.jsonl"
    log.write_text("old\n")
    with LazyLog(log):
        pass
    assert log.read_text() == "old\n"
    with LazyLog(log) as lazy:
        lazy.write("new\n")
    assert log.read_text() == "new\n"
