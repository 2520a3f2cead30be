"""`hil bench reference` on s8 (int8) models: the same timing path as q7, with the s8
reference's calls, its rounding as the variant, and the batched s8 reference in chunks.
No timed assertions: what is checked is what gets timed and what gets printed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from hil.bench.reference import (
    bench_batch,
    bench_network,
    bench_reference,
    layer_steps,
    reference_variant,
)
from hil.cli import main
from hil.cli.bench import render_batch, render_reference
from hil.errors import ConfigError
from hil.model.examples import build_example
from hil.model.io import load_any_model
from hil.reference import s8

from helpers.s8_model_file import write_s8_model


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    return write_s8_model(tmp_path_factory.mktemp("s8-bench"))


@pytest.fixture(scope="module")
def net(model_file):
    return load_any_model(model_file)


def _cli(args: list, capsys) -> tuple[int, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("rounding", ["double", "single"])
def test_the_timed_steps_give_the_s8_references_bytes(net, rounding):
    # What bench_network times, layer after layer, is the reference itself.
    x = np.random.default_rng(1).integers(-128, 128, size=net.input_size, dtype=np.int8)
    y = x
    for step, want in zip(
        layer_steps(net, rounding), s8.run_network(net, x, rounding), strict=True
    ):
        y = step(y)
        assert np.array_equal(y, want)


def test_the_rounding_reaches_the_kernels(net):
    # single and double differ on negative ties; on this model some output must show it
    # for the variant to be shown to reach the kernels at all.
    rng = np.random.default_rng(0)
    xs = rng.integers(-128, 128, size=(64, net.input_size), dtype=np.int8)
    ran = {r: [layer_steps(net, r)[0](x) for x in xs] for r in ("double", "single")}
    assert any(not np.array_equal(a, b) for a, b in zip(ran["double"], ran["single"]))


def test_bench_network_times_every_s8_layer_in_the_default_rounding(net):
    result = bench_network(net, repeat=3, warmup=1)
    assert (result.family, result.variant, result.repeat) == ("s8", "double", 3)
    assert result.layers == tuple((layer.name, layer.function) for layer in net.layers)
    assert all(len(t) == 3 for t in result.layer_ms) and len(result.total_ms) == 3
    assert all(t >= 0 for t in result.total_ms)
    console = Console(record=True, width=140)
    render_reference(result, console)
    text = console.export_text()
    assert "host reference: cnn (s8, double rounding, 3 runs, median)" in text
    assert "arm_depthwise_conv_wrapper_s8" in text and "arm_softmax_s8" in text
    assert text.rstrip().splitlines()[-1] == f"median {result.median_ms:.3f} ms per inference"


def test_bench_batch_runs_the_s8_reference_in_chunks(net, monkeypatch):
    calls = []
    real = s8.run_network_batch

    def counted(network, x, rounding="double"):
        calls.append((len(x), rounding))
        return real(network, x, rounding)

    # hil.reference.network.run_network_batch cuts the batch into chunks for the s8 reference
    monkeypatch.setattr(s8, "run_network_batch", counted)
    result = bench_batch(net, images=70, repeat=2, variant="single", chunk_size=32)
    # one warm-up chunk, then each timed batch of 70 as 32 + 32 + 6
    assert [n for n, _ in calls] == [32, 32, 32, 6, 32, 32, 6]
    assert {v for _, v in calls} == {"single"}
    assert (result.family, result.variant, result.images, len(result.batch_s)) == (
        "s8",
        "single",
        70,
        2,
    )
    assert result.images_per_second > 0
    console = Console(record=True, width=200)
    render_batch(result, console)
    text = console.export_text()
    assert (
        "host reference, batched: cnn (s8, single rounding, 70 images per batch, chunks of 32"
        in text
    )
    assert text.rstrip().endswith("images per second")


def test_the_q7_path_is_unchanged():
    lenet = build_example("lenet5")
    assert reference_variant(lenet) == "dsp"
    result = bench_network(lenet, repeat=2, warmup=1, variant="plain")
    assert (result.family, result.variant) == ("q7", "plain")


def test_variants_are_checked_against_the_family(net):
    lenet = build_example("lenet5")
    assert [reference_variant(net, v) for v in (None, "double", "single")] == [
        "double",
        "double",
        "single",
    ]
    with pytest.raises(
        ConfigError, match="--variant dsp is a q7 kernel path; cnn is an s8 model"
    ) as e:
        reference_variant(net, "dsp")
    assert "--variant double" in (e.value.hint or "")
    with pytest.raises(
        ConfigError, match="--variant single is an s8 rounding; lenet5 is a q7"
    ) as e:
        reference_variant(lenet, "single")
    assert "--variant dsp" in (e.value.hint or "")
    with pytest.raises(ConfigError, match="--variant neon is not a reference variant"):
        bench_network(net, repeat=1, variant="neon")
    with pytest.raises(ConfigError, match="--chunk-size 0 must be at least 1"):
        bench_batch(net, images=4, chunk_size=0)


def test_cli_bench_reference_on_an_s8_model_file(model_file, capsys):
    code, out = _cli(["bench", "reference", "--model", model_file, "--repeat", "2"], capsys)
    assert code == 0, out
    assert "(s8, double rounding, 2 runs, median)" in " ".join(out.split())
    for name in ("conv1", "dwconv1", "softmax1", "total"):
        assert name in out, name
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("median ") and last.endswith(" ms per inference")
    float(last.split()[1])


def test_cli_bench_reference_batch_on_an_s8_model_file(model_file, capsys):
    args = ["bench", "reference", "--model", model_file, "--batch", "40", "--repeat", "1"]
    code, out = _cli([*args, "--variant", "single", "--chunk-size", "16"], capsys)
    assert code == 0, out
    text = " ".join(out.split())
    assert "cnn (s8, single rounding, 40 images per batch, chunks of 16, 1 run, median)" in text
    assert out.rstrip().endswith("images per second")


@pytest.mark.parametrize(
    ("model", "variant", "words"),
    (
        ("s8", "plain", "--variant plain is a q7 kernel path; cnn is an s8 model"),
        ("s8", "neon", "--variant neon is not a reference variant"),
        ("lenet5", "double", "--variant double is an s8 rounding; lenet5 is a q7 model"),
    ),
)
@pytest.mark.parametrize("batch", [[], ["--batch", "8"]])
def test_a_variant_of_the_other_family_is_one_line(
    model_file, model, variant, words, batch, capsys
):
    spec = model_file if model == "s8" else model
    code, out = _cli(["bench", "reference", "--model", spec, "--variant", variant, *batch], capsys)
    assert code == 2, out
    assert out.startswith(f"error: {words}") and "Traceback" not in out, out
    assert len(out.strip().splitlines()) == 2, out  # the error and its hint


def test_bench_reference_loads_an_s8_model_file(model_file):
    assert bench_reference(str(model_file), repeat=1).family == "s8"


def test_the_device_bench_times_the_reference_the_device_is_judged_by(net, tmp_path, monkeypatch):
    import hil.bench.device as bench_device
    from hil.config.boards import load_board
    from hil.device.target import Target

    seen = []
    real = bench_device.bench_network

    def recorded(network, **kw):
        result = real(network, **kw)
        seen.append((network.name, result.family, result.variant))
        return result

    monkeypatch.setattr(bench_device, "bench_network", recorded)
    for rounding in ("double", "single"):
        target = Target(load_board("qemu-m7"), net, "cnn", tmp_path, rounding=rounding)
        assert bench_device._reference_seconds(target) > 0
    q7 = Target(load_board("qemu-m3"), build_example("lenet5"), "lenet5", tmp_path)
    assert bench_device._reference_seconds(q7) > 0
    assert seen == [("cnn", "s8", "double"), ("cnn", "s8", "single"), ("lenet5", "q7", "plain")]
