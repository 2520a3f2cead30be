"""The bad-input sweep: options that crashed, were silently ignored or got a
misleading message. Each case now ends with one clear line naming the thing
and the fix (exit 2), before anything is built or started, or is honoured.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import hil.model.inputs
from hil.cli import main
from hil.cli.console import verbose
from hil.errors import ConfigError, KernelParameterError
from hil.firmware.nn_backend import genuine_backend
from hil.model.examples import build_example
from hil.model.io import save_model
from hil.reference.validation import validate_params

FC = dict(dim_vec=10, num_of_rows=6, bias_shift=0, out_shift=7)


def cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.err + out.out


def one_line(text: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(text.split())


def assert_refused(code: int, text: str, *words: str, tmp_path: Path | None = None) -> None:
    assert code == ConfigError.exit_code, text
    assert "Traceback" not in text
    assert text.lstrip().startswith("error:"), text
    flat = one_line(text)
    for w in words:
        assert w in flat, f"{w!r} not in: {flat}"
    if tmp_path is not None:  # refused up front: nothing was built or started
        assert not list(tmp_path.rglob("*.elf")) and not list(tmp_path.rglob("*.o"))


def run(args: list[str], tmp_path: Path, capsys) -> tuple[int, str]:
    return cli(["run", "--model", "lenet5", "--build-dir", str(tmp_path / "build"), *args], capsys)


@pytest.fixture
def model_file(tmp_path) -> Path:
    toml, _ = save_model(build_example("lenet5"), tmp_path / "model" / "lenet5.toml")
    return toml


@pytest.fixture
def inputs_file(tmp_path) -> Path:
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((2, 28, 28, 1), np.int8))
    return path


# ------------------------------------------------------------ tracebacks before


def test_negative_seed(tmp_path, capsys):
    code, text = run(["--seed", "-1"], tmp_path, capsys)
    assert_refused(code, text, "--seed -1", "0 or more", tmp_path=tmp_path)


def test_more_vectors_than_memory_holds(tmp_path, capsys):
    code, text = run(["--vectors", "1000000000000"], tmp_path, capsys)
    assert_refused(code, text, "--vectors 1000000000000", "at most", tmp_path=tmp_path)


def test_the_vector_limit_is_half_the_memory(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(hil.model.inputs, "_memory_bytes", lambda: 784 * 1000)
    code, text = run(["--vectors", "501"], tmp_path, capsys)
    assert_refused(code, text, "at most 500 vectors of lenet5", "--vectors 500 or fewer")
    x = hil.model.inputs.generated_inputs(
        build_example("lenet5"), 500, 0
    )  # the limit itself is fine
    assert x.shape == (500, 28, 28, 1)


def test_model_export_onto_an_existing_file(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("mine\n")
    code, text = cli(["model", "export", "lenet5", str(target)], capsys)
    assert_refused(code, text, str(target))
    assert target.read_text() == "mine\n"


def test_model_export_negative_seed(tmp_path, capsys):
    code, text = cli(["model", "export", "lenet5", str(tmp_path / "out"), "--seed", "-1"], capsys)
    assert_refused(code, text, "--seed -1")
    assert not (tmp_path / "out").exists()


def test_bench_device_baud_zero(tmp_path, capsys):
    code, text = cli(
        ["bench", "device", "--model", "lenet5", "--baud", "0", "--build-dir", str(tmp_path)],
        capsys,
    )
    assert_refused(code, text, "--baud 0", "at least 1", tmp_path=tmp_path)


def test_bench_device_more_full_vectors_than_vectors(tmp_path, capsys):
    code, text = cli(
        [
            "bench",
            "device",
            "--model",
            "lenet5",
            "--vectors",
            "2",
            "--full-vectors",
            "3",
            "--build-dir",
            str(tmp_path),
        ],
        capsys,
    )
    assert_refused(code, text, "--full-vectors 3", "--vectors 2", tmp_path=tmp_path)


def test_bench_device_more_vectors_than_the_data_set_has(tmp_path, capsys):
    code, text = cli(
        [
            "bench",
            "device",
            "--model",
            "lenet5-mnist",
            "--dataset",
            "mnist-test",
            "--vectors",
            "1001",
            "--build-dir",
            str(tmp_path),
        ],
        capsys,
    )
    assert_refused(code, text, "1,000 inputs", "--vectors 1000", tmp_path=tmp_path)


def test_bench_device_data_set_that_does_not_fit_the_model(tmp_path, capsys):
    code, text = cli(
        ["bench", "device", "--model", "cifar10", "--dataset", "mnist-test"]
        + ["--build-dir", str(tmp_path)],
        capsys,
    )
    assert_refused(code, text, "mnist-test", "cifar10", tmp_path=tmp_path)


def test_bench_device_both_inputs_and_dataset(tmp_path, capsys, inputs_file):
    code, text = cli(
        ["bench", "device", "--model", "lenet5", "--dataset", "mnist-test"]
        + ["--inputs", str(inputs_file), "--build-dir", str(tmp_path)],
        capsys,
    )
    assert_refused(code, text, "--dataset and --inputs", tmp_path=tmp_path)


# ------------------------------------------------------ silently ignored before


@pytest.mark.parametrize("option", [["-n", "3"], ["--vectors", "3"], ["--seed", "5"]])
def test_inputs_with_generator_options(option, inputs_file, tmp_path, capsys):
    code, text = run(["--inputs", str(inputs_file), *option], tmp_path, capsys)
    assert_refused(
        code,
        text,
        "--inputs",
        "--seed" if option[0] == "--seed" else "--vectors/-n",
        tmp_path=tmp_path,
    )


def test_inputs_alone_are_not_refused(inputs_file, tmp_path, capsys):
    # The default -n and --seed do not count as given: the run gets on to the next check.
    code, text = run(["--inputs", str(inputs_file), "--dump", "bogus"], tmp_path, capsys)
    assert_refused(code, text, "--dump 'bogus'")


def test_max_regression_without_baseline(tmp_path, capsys):
    code, text = run(["--max-regression", "5%"], tmp_path, capsys)
    assert_refused(code, text, "--max-regression", "--baseline", tmp_path=tmp_path)


def test_max_regression_with_baseline_goes_on(tmp_path, capsys):
    code, text = run(
        ["--max-regression", "5%", "--baseline", str(tmp_path / "nope.json")], tmp_path, capsys
    )
    assert_refused(code, text, "nope.json")
    assert "does nothing without" not in text


@pytest.mark.parametrize("option", ["--probe", "--pack", "--lab"])
@pytest.mark.parametrize("command", ["run", "flash"])
def test_probe_options_on_an_emulated_board(command, option, tmp_path, capsys):
    value = "0670FF" if option == "--probe" else str(tmp_path / "f")
    code, text = cli(
        [
            command,
            "--board",
            "qemu-m3",
            "--model",
            "lenet5",
            option,
            value,
            "--build-dir",
            str(tmp_path / "b"),
        ],
        capsys,
    )
    assert_refused(code, text, option, "qemu-m3", "pyOCD", tmp_path=tmp_path)


def test_probe_from_the_environment_is_not_an_error_on_an_emulator(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HIL_PROBE", "0670FF")  # set once for a bench, shell-wide
    code, text = run(["--dump", "bogus"], tmp_path, capsys)
    assert_refused(code, text, "--dump")


def _vectors_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "vectors" / "arm_future_q7"
    folder.mkdir(parents=True)
    (folder / "case0.npz").write_bytes(b"")
    return folder.parent


def test_skip_function_unknown(tmp_path, capsys):
    code, text = cli(
        ["conformance", str(_vectors_dir(tmp_path)), "--skip-function", "arm_relu_q8"], capsys
    )
    assert_refused(code, text, "--skip-function arm_relu_q8", "arm_relu_q7", "arm_future_q7")


def test_skip_function_of_a_folder_in_the_set_is_accepted(tmp_path, capsys):
    code, text = cli(
        ["conformance", str(_vectors_dir(tmp_path)), "--skip-function", "arm_future_q7"], capsys
    )
    assert_refused(code, text, "no golden vectors")  # everything was skipped


@pytest.mark.parametrize(
    "option",
    [
        ["--cmsis-nn", "/opt/CMSIS_5"],
        ["--port", "/dev/ttyACM0"],
        ["--timeout", "5"],
        ["--build-dir", "b"],
    ],
)
def test_device_options_on_host_conformance(option, tmp_path, capsys):
    code, text = cli(["conformance", str(_vectors_dir(tmp_path)), *option], capsys)
    assert_refused(code, text, option[0], "--board")


def test_soak_negative_reset_period(tmp_path, capsys):
    code, text = cli(
        ["soak", "--model", "lenet5", "--reset-every", "-1", "--build-dir", str(tmp_path)], capsys
    )
    assert_refused(code, text, "--reset-every -1", tmp_path=tmp_path)


@pytest.mark.parametrize("count", ["0", "-3"])
def test_bench_devices_at_least_one(count, tmp_path, capsys):
    code, text = cli(
        ["bench", "devices", "--model", "lenet5", "--devices", count, "--build-dir", str(tmp_path)],
        capsys,
    )
    assert_refused(code, text, f"--devices {count} must be at least 1", tmp_path=tmp_path)


# --------------------------------------------------------- wrong message before


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--model", "lenet5"],
        ["flash"],
        ["soak"],
        ["conformance", "DIR", "--board", "qemu-m3"],
    ],
)
@pytest.mark.parametrize("value", ["0", "-2", "nan"])
def test_timeout_must_be_positive(command, value, tmp_path, capsys):
    args = [str(tmp_path) if a == "DIR" else a for a in command]
    code, text = cli([*args, "--timeout", value, "--build-dir", str(tmp_path)], capsys)
    assert_refused(code, text, f"--timeout {value}", "positive", tmp_path=tmp_path)


def test_timeout_from_the_environment_is_named_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HIL_TIMEOUT", "0")
    code, text = run([], tmp_path, capsys)
    assert_refused(code, text, "HIL_TIMEOUT=0", tmp_path=tmp_path)


@pytest.mark.parametrize("count", ["0", "-1"])
def test_run_devices_at_least_one(count, tmp_path, capsys):
    code, text = run(["--devices", count], tmp_path, capsys)
    assert_refused(code, text, f"--devices {count} must be at least 1", tmp_path=tmp_path)
    assert "emulated boards only" not in text


def test_inputs_is_a_directory(tmp_path, capsys):
    code, text = run(["--inputs", str(tmp_path)], tmp_path, capsys)
    assert_refused(code, text, "is a directory", ".npy file", tmp_path=tmp_path)
    assert "does not exist" not in text


def test_conformance_given_a_file(tmp_path, capsys):
    case = _vectors_dir(tmp_path) / "arm_future_q7" / "case0.npz"
    code, text = cli(["conformance", str(case)], capsys)
    assert_refused(code, text, "is a file", "folder", str(case.parent))
    assert "does not exist" not in text


def test_weights_file_given_as_model(model_file, tmp_path, capsys):
    code, text = run(["--model", str(model_file.with_suffix(".npz"))], tmp_path, capsys)
    assert_refused(code, text, "weights file", str(model_file), tmp_path=tmp_path)
    assert "utf-8" not in text.lower()


def test_layer_name_with_a_space(model_file, tmp_path, capsys):
    model_file.write_text(model_file.read_text().replace('name = "conv1"', 'name = "conv 1"'))
    code, text = run(["--model", str(model_file)], tmp_path, capsys)
    assert_refused(code, text, "'conv 1'", "identifier-like", "'conv_1'", tmp_path=tmp_path)
    assert "belong to no layer" not in text


@pytest.mark.parametrize(
    "name, value, bounds",
    [("bias_shift", -1, "0..24"), ("out_shift", -1, "0..30"), ("bias_shift", 70000, "0..24")],
)
def test_shift_out_of_range_names_the_real_range(name, value, bounds, model_file, tmp_path, capsys):
    text = model_file.read_text()
    model_file.write_text(
        re.sub(rf"^{name} = \d+$", f"{name} = {value}", text, count=1, flags=re.M)
    )
    code, text = run(["--model", str(model_file)], tmp_path, capsys)
    assert_refused(code, text, f"{name} = {value} is outside {bounds}", tmp_path=tmp_path)
    assert "65535" not in text


@pytest.mark.parametrize(
    "name, value, bounds", [("bias_shift", -1, "0..24"), ("out_shift", 65536, "0..30")]
)
def test_reference_names_the_real_shift_range(name, value, bounds):
    with pytest.raises(KernelParameterError, match=rf"{name} = {value} is outside {bounds}"):
        validate_params("arm_fully_connected_q7", {**FC, name: value})


def test_activation_type_names_its_values():
    from hil.model.layer import Layer, Network
    from hil.model.validate import validate_network

    net = Network(
        "act",
        (16,),
        (Layer("act", "arm_nn_activations_direct_q7", {"size": 16, "int_width": 0, "type": -1}),),
    )
    with pytest.raises(ConfigError, match=r"type = -1 is outside 0\.\.1 \(0 is ARM_SIGMOID"):
        validate_network(net)


# Messages quoting brackets: rich markup used to swallow them.
@pytest.mark.parametrize(
    "old, new, shown",
    [
        (
            r"^input_shape = .*$",
            "input_shape = [0]",
            "give [height, width, channels] for images or [n] for vectors",
        ),
        (r"^\[metadata\]$", "[metadata]\nx = 1", "lenet5.toml: [metadata] must hold only string"),
        (r"^format = 1$", "format = 1\nbogus = 2", "inside [[layers]]"),
    ],
)
def test_brackets_in_messages_are_shown(old, new, shown, model_file, tmp_path, capsys):
    model_file.write_text(re.sub(old, new, model_file.read_text(), count=1, flags=re.M))
    code, text = run(["--model", str(model_file)], tmp_path, capsys)
    assert_refused(code, text, shown)


def test_brackets_in_verbose_settings_are_shown(tmp_path, capsys):
    build_dir = tmp_path / "a[b]"
    code, text = cli(
        ["-v", "run", "--model", "lenet5", "--dump", "bogus", "--build-dir", str(build_dir)], capsys
    )
    assert code == 2
    assert f"setting build_dir = {build_dir} from command line" in one_line(text)


# ------------------------------------------------------------------ --cmsis-nn


def _cmsis5(root: Path) -> Path:
    for rel, text in {
        "CMSIS/NN/Include/arm_nnfunctions.h": "\n",
        "CMSIS/NN/Source/ConvolutionFunctions/arm_convolve_HWC_q7_basic.c": "\n",
        "CMSIS/Core/Include/cmsis_compiler.h": "\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_cmsis_nn_folder_inside_cmsis5_names_the_root(tmp_path, monkeypatch):
    monkeypatch.delenv("HIL_CMSIS_CORE", raising=False)
    root = _cmsis5(tmp_path / "CMSIS_5")
    with pytest.raises(ConfigError) as err:
        genuine_backend(root / "CMSIS" / "NN")
    assert f"--cmsis-nn {root} " in err.value.hint and "checkout root" in err.value.hint
    assert genuine_backend(root).name == "cmsis-nn"


def test_cmsis_nn_a_file_is_called_a_file(tmp_path):
    root = _cmsis5(tmp_path / "CMSIS_5")
    header = root / "CMSIS" / "NN" / "Include" / "arm_nnfunctions.h"
    with pytest.raises(ConfigError, match="is a file") as err:
        genuine_backend(header)
    assert str(root) in err.value.hint


def test_cmsis_core_hint_names_what_exists(tmp_path):
    nn = tmp_path / "nn"
    (nn / "Include").mkdir(parents=True)
    (nn / "Include" / "arm_nnfunctions.h").write_text("\n")
    (nn / "Source" / "ConvolutionFunctions").mkdir(parents=True)
    (nn / "Source" / "ConvolutionFunctions" / "arm_convolve_HWC_q7_basic.c").write_text("\n")
    with pytest.raises(ConfigError, match="no CMSIS Core headers") as err:
        genuine_backend(nn)
    assert "HIL_CMSIS_CORE" in err.value.hint and "--cmsis-core" not in err.value.hint


@pytest.mark.parametrize(
    "command",
    [
        ["build"],
        ["flash"],
        ["run", "--model", "lenet5"],
        ["conformance", "DIR", "--board", "qemu-m3"],
    ],
)
def test_bad_cmsis_nn_is_bad_input_before_the_build(command, tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a checkout\n")
    args = [str(tmp_path) if a == "DIR" else a for a in command]
    code, text = cli([*args, "--cmsis-nn", str(bad), "--build-dir", str(tmp_path / "b")], capsys)
    assert_refused(code, text, str(bad), "is a file", tmp_path=tmp_path)


def test_cmsis_nn_help_names_a_version_that_exists(capsys):
    assert main(["build", "--help"]) == 0
    help_text = one_line(capsys.readouterr().out)
    assert "3.1.0" not in help_text and "cc3e92d" in help_text and "5.9.0" in help_text


# ------------------------------------------------------------------ CLI polish


def _leaf_commands() -> list[list[str]]:
    import typer

    from hil.cli import app

    def walk(command, path):
        subs = getattr(command, "commands", None)
        if not subs:
            return [path]
        return [p for name, sub in subs.items() for p in walk(sub, [*path, name])]

    return walk(typer.main.get_command(app), [])


COMMANDS = _leaf_commands()


@pytest.mark.parametrize("path", [[]] + COMMANDS, ids=lambda p: " ".join(p) or "hil")
def test_help_has_no_bool_metavar_and_keeps_brackets(path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    assert main([*path, "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "<bool>" not in help_text
    # " ." is what was left where rich swallowed "[default: ...]".
    assert not re.search(r" \.(\s|$)", help_text), help_text
    if path == ["build"]:
        assert "[default: ./build/hil]" in one_line(help_text)


def test_flags_still_work_as_flags(tmp_path, capsys):
    target = tmp_path / "out"
    assert main(["model", "export", "lenet5", str(target)]) == 0
    assert main(["model", "export", "lenet5", str(target), "--force"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_subcommand_takes_verbose(path, capsys):
    assert main([*path, "-v", "--help"]) == 0
    assert main([*path, "--verbose", "--help"]) == 0
    capsys.readouterr()


def test_verbose_after_the_subcommand_acts_as_before_it(tmp_path, capsys):
    args = ["--model", "lenet5", "--dump", "bogus", "--build-dir", str(tmp_path)]
    before = cli(["-v", "run", *args], capsys)
    after = cli(["run", *args, "-v"], capsys)
    assert before[0] == after[0] == 2
    for text in (before[1], after[1]):
        assert "setting model = lenet5 from command line (--model)" in text
        assert "Traceback" in text  # -v shows the traceback
    assert cli(["run", *args], capsys)[1].startswith("error:")  # and is reset
    assert not verbose()


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--no-such-option"], "error: No such option: --no-such-option"),
        (["run", "--vectors", "many"], "error: Invalid value for '--vectors'"),
        (["bench", "reference", "--repeat"], "error: Option '--repeat' requires an argument"),
        (["no-such-command"], "error: No such command 'no-such-command'"),
    ],
)
def test_usage_errors_look_like_every_other_error(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines[0].startswith(message), err
    where = "hil " + " ".join(args[: 2 if args[0] == "bench" else 1])
    where = "hil" if args[0] == "no-such-command" else where
    assert lines[-1] == f"hint: see {where} --help"
    assert "Usage:" not in err and "Try '" not in err and "Traceback" not in err


@pytest.mark.parametrize("args", [[], ["bench"], ["model"]])
def test_a_bare_group_still_shows_its_help(args, capsys):
    assert main(args) == 2
    out = capsys.readouterr()
    assert "Commands" in out.out + out.err and "error:" not in out.err
