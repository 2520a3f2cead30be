"""`hil model info` (q7 and s8 models) and `hil model export` through the CLI's error
boundary."""

from __future__ import annotations

from hil.cli import main
from hil.export.files import build_export
from hil.export.s8_plan import plan_s8
from hil.model.examples import build_example
from hil.model.hashing import model_hash
from hil.model.io import load_any_model, load_model

from helpers.s8_model_file import write_s8_model


def test_export_then_info_round_trip(tmp_path, capsys):
    assert main(["model", "export", "lenet5", str(tmp_path)]) == 0
    toml = tmp_path / "lenet5.toml"
    assert toml.exists() and toml.with_suffix(".npz").exists()
    assert model_hash(load_model(toml)) == model_hash(build_example("lenet5"))
    capsys.readouterr()
    assert main(["model", "info", str(toml)]) == 0
    out = capsys.readouterr().out
    assert "arm_convolve_HWC_q7_fast" in out and "5x5x16" in out
    assert "arena 7,840 B" in out
    assert model_hash(build_example("lenet5")).hex() in out


def test_export_refuses_to_overwrite(tmp_path, capsys):
    assert main(["model", "export", "lenet5", str(tmp_path)]) == 0
    assert main(["model", "export", "lenet5", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["model", "export", "lenet5", str(tmp_path), "--force", "--seed", "3"]) == 0
    assert model_hash(load_model(tmp_path / "lenet5.toml")) == model_hash(
        build_example("lenet5", seed=3)
    )


def test_info_of_unknown_model_is_a_config_error(capsys):
    assert main(["model", "info", "resnet"]) == 2
    err = capsys.readouterr().err
    assert "no model 'resnet'" in err and "cifar10" in err


def test_info_takes_the_model_as_an_option_too(capsys):
    assert main(["model", "info", "--model", "lenet5"]) == 0
    assert "arena 7,840 B" in capsys.readouterr().out
    assert main(["model", "info", "lenet5", "-m", "cifar10"]) == 2
    err = capsys.readouterr().err
    assert "model given twice" in err and "hint:" in err and "Traceback" not in err
    assert main(["model", "info"]) == 2
    assert "no model given" in capsys.readouterr().err


def _row(out: str, layer: str) -> list[str]:
    """The cells of the table row that starts layer ``layer`` (its first line)."""
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) > 1 and cells[1] == layer:
            return cells
    raise AssertionError(f"no row for {layer}")


def test_info_of_an_s8_model_shows_functions_quantisation_and_the_scratch_plan(tmp_path, capsys):
    toml = write_s8_model(tmp_path, "cnn")
    net = load_any_model(toml)
    plan = plan_s8(net)
    assert main(["model", "info", "--model", str(toml)]) == 0
    out = capsys.readouterr().out
    q = net.input_quant
    assert f"model cnn (s8): input 1x16x16x3, scale {q.scale:.6g}, zero point {q.zero_point}" in out
    for layer, slot in zip(net.layers, plan.layers):
        row = _row(out, layer.name)
        assert row[2:10] == [
            layer.function,
            "x".join(map(str, layer.output_shape)),
            f"{layer.macs:,}",
            str(slot.in_offset),
            str(slot.out_offset),
            f"{slot.ctx_size:,}",
            f"{layer.output_quant.scale:.6g}",
            str(layer.output_quant.zero_point),
        ], row
    # Every CMSIS-NN s8 function of the model appears, with the first of its scalars.
    assert {l.function for l in net.layers} == {
        "arm_convolve_wrapper_s8", "arm_depthwise_conv_wrapper_s8", "arm_max_pool_s8",
        "arm_avgpool_s8", "arm_fully_connected_per_channel_s8", "arm_fully_connected_s8",
        "arm_softmax_s8",
    }  # fmt: skip
    assert "input_n=1, input_h=16, input_w=16, input_c=3" in out
    assert "num_rows=1, row_size=10" in out
    macs = sum(l.macs for l in net.layers)
    assert f"layers 8   MACs {macs:,}   weights, biases, multipliers, shifts" in out
    (a, b), (size_a, size_b) = plan.buffer_offsets, plan.buffer_sizes
    assert (
        f"scratch {plan.scratch_size:,} B (buffer A {size_a:,} B at {a}, buffer B "
        f"{size_b:,} B at {b}, kernels' ctx.buf {plan.kernel_size:,} B at {plan.kernel_offset}"
    ) in out
    # small_cnn: its 16x16x8 and 16x16x16 activations ping-pong through A and B.
    assert "scratch 6,720 B (buffer A 4,096 B at 0, buffer B 2,048 B at 4096" in out
    assert f"model hash {model_hash(net).hex()}" in out


def test_info_scratch_is_what_the_firmware_allocates(tmp_path, capsys):
    toml = write_s8_model(tmp_path, "cnn")
    net = load_any_model(toml)
    header = build_export(net, "cnn", "portable").files["cnn.h"].decode()
    assert main(["model", "info", str(toml)]) == 0
    scratch = capsys.readouterr().out.split("scratch ", 1)[1].split(" B", 1)[0].replace(",", "")
    assert f"#define CNN_SCRATCH_SIZE {scratch}u" in header
