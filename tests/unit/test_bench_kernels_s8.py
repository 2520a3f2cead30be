"""`hil bench kernels` with s8 (int8) models: --cmsis-nn is checked against each model's
kernel family before any build, and a checkout of the other family is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.cli import main
from hil.model.s8_io import save_s8_model
from hil.model.tflite.lower import lower_graph

from helpers.cmsis_trees import cmsis5, make_tree
from helpers.s8_models import small_cnn


@pytest.fixture(scope="module")
def s8_model(tmp_path_factory) -> Path:
    net = lower_graph(small_cnn(seed=3)[0], "cnn")
    toml, _npz = save_s8_model(net, tmp_path_factory.mktemp("s8-kernels") / "cnn.toml")
    return toml


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict[str, Path]:
    """A CMSIS_5 tree (the q7 API) and a CMSIS-NN >= 4.0 tree (the s8 API), tiny files only."""
    root = tmp_path_factory.mktemp("cmsis-trees")
    s8_tree = make_tree(
        root / "CMSIS-NN",
        {
            "Include/arm_nnfunctions.h": "int arm_convolve_wrapper_s8(void);\n",
            "Include/arm_nn_types.h": "typedef enum { ARM_CMSIS_NN_SUCCESS } arm_cmsis_nn_status;\n",
            "Include/arm_nn_math_types.h": "#include <stdint.h>\n",
            "Source/ConvolutionFunctions/arm_convolve_wrapper_s8.c": "int x;\n",
        },
    )
    return {"q7": cmsis5(root / "CMSIS_5"), "s8": s8_tree}


def _refused(args: list, build: Path, capsys) -> str:
    code = main(["bench", "kernels", "--build-dir", str(build), *map(str, args)])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == 2, text
    assert text.startswith("error:") and "Traceback" not in text, text
    assert not build.exists() or not any(build.iterdir()), "refused after a build began"
    return " ".join(text.split())


def test_a_q7_checkout_is_refused_for_an_s8_model(s8_model, trees, tmp_path, capsys):
    text = _refused(["--model", s8_model, "--cmsis-nn", trees["q7"]], tmp_path / "b", capsys)
    words = f"--cmsis-nn {trees['q7']} is a CMSIS-NN for q7 models, and --model {s8_model}"
    assert f"{words} is an s8 model" in text
    assert "bench each family with its own --cmsis-nn" in text


def test_an_s8_checkout_is_refused_for_a_q7_model(trees, tmp_path, capsys):
    text = _refused(["--model", "lenet5", "--cmsis-nn", trees["s8"]], tmp_path / "b", capsys)
    assert (
        f"--cmsis-nn {trees['s8']} is a CMSIS-NN for s8 models, and --model lenet5 is a q7" in text
    )


def test_mixed_families_with_one_checkout_name_the_model_it_does_not_fit(
    s8_model, trees, tmp_path, capsys
):
    # The s8 model comes first and fits; the q7 one after it does not.
    args = ["--model", s8_model, "--model", "lenet5", "--cmsis-nn", trees["s8"]]
    text = _refused(args, tmp_path / "b", capsys)
    assert "--model lenet5 is a q7 model" in text


def test_the_default_models_are_q7_and_an_s8_checkout_does_not_fit_them(trees, tmp_path, capsys):
    text = _refused(["--cmsis-nn", trees["s8"]], tmp_path / "b", capsys)
    assert "--model cifar10 is a q7 model" in text


def test_a_path_that_fits_no_family_keeps_its_own_reason(s8_model, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    text = _refused(["--model", s8_model, "--cmsis-nn", missing], tmp_path / "b", capsys)
    assert f"CMSIS-NN checkout {missing} is not a folder" in text
    assert "v4.0.0 or later" in text  # the s8 family's requirement, not q7's


def test_the_help_says_which_checkout_fits_which_family(capsys):
    assert main(["bench", "kernels", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "For q7 models: the root of a CMSIS_5 checkout up to tag 5.9.0" in text
    assert "For s8 (int8) models: a standalone CMSIS-NN checkout, v4.0.0 or later" in text
