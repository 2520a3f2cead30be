"""hil import refuses what the legacy kernels cannot run, naming the node and the fix."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hil.errors import ConfigError
from hil.model.importer import import_onnx


def _model(tmp_path, shape, nodes, inits, opset=13, inputs=None):
    graph = helper.make_graph(
        nodes,
        "g",
        inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *shape])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()],
    )
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


def _refused(path, shape, match, cal=None):
    cal = np.zeros((2, *shape), np.float32) + 0.5 if cal is None else cal
    with pytest.raises(ConfigError, match=match) as info:
        import_onnx(path, cal, name="m")
    assert "\n" not in info.value.message
    return info.value


W = np.ones((2, 2, 3, 3)) * 0.1


@pytest.mark.parametrize(
    "attrs, match",
    [
        ({"pads": [1, 1, 0, 0]}, r"node 'conv' \(Conv\): pads = \[1, 1, 0, 0\] is asymmetric"),
        ({"dilations": [2, 2]}, r"node 'conv' \(Conv\): dilations = \[2, 2\]"),
        ({"group": 2}, r"node 'conv' \(Conv\): group = 2"),
    ],
)
def test_conv_attributes_refused(tmp_path, attrs, match):
    w = W[:, :1] if attrs.get("group") else W
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)]
    err = _refused(
        _model(
            tmp_path, (2, 8, 8), nodes, {"w": np.concatenate([w, w]) if attrs.get("group") else w}
        ),
        (2, 8, 8),
        match,
    )
    assert err.hint.startswith("supported")


def test_group_that_is_not_depthwise_is_refused(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", group=2)]
    _refused(
        _model(tmp_path, (4, 8, 8), nodes, {"w": np.ones((4, 2, 3, 3))}), (4, 8, 8), "group = 2"
    )


def test_add_of_two_branches_is_refused(tmp_path):
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="r"),
        helper.make_node("Conv", ["a", "w"], ["b"], name="conv"),
        helper.make_node("Add", ["a", "b"], ["y"], name="residual"),
    ]
    _refused(
        _model(tmp_path, (2, 3, 3), nodes, {"w": np.ones((2, 2, 1, 1))}),
        (2, 3, 3),
        "feeds 2 nodes.*branches",
    )


def test_concat_is_refused(tmp_path):
    nodes = [helper.make_node("Concat", ["x", "w"], ["y"], name="cat", axis=1)]
    _refused(
        _model(tmp_path, (4,), nodes, {"w": np.ones((1, 4))}), (4,), r"node 'cat' \(Concat\) joins"
    )


def test_unsupported_op_is_refused(tmp_path):
    nodes = [helper.make_node("LeakyRelu", ["x"], ["y"], name="leaky")]
    _refused(
        _model(tmp_path, (4,), nodes, {"unused": [1.0]}), (4,), r"node 'leaky' \(LeakyRelu\): op"
    )


def test_nonsquare_pooling_is_refused(tmp_path):
    nodes = [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 3])]
    _refused(
        _model(tmp_path, (2, 6, 6), nodes, {"u": [1.0]}),
        (2, 6, 6),
        r"kernel = \(2, 3\) is not square",
    )


def test_pooling_that_no_kernel_has_is_refused(tmp_path):
    # ONNX allows an output larger than the input; the in-place CMSIS-NN pooling does not.
    nodes = [
        helper.make_node(
            "MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], pads=[1, 1, 1, 1]
        )
    ]
    _refused(
        _model(tmp_path, (2, 2, 2), nodes, {"u": [1.0]}),
        (2, 2, 2),
        r"node 'pool'.*dim_im_out = 3 must not exceed dim_im_in = 2",
    )


def test_batchnorm_without_conv_is_refused(tmp_path):
    nodes = [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn")]
    inits = {k: np.ones(2) for k in "sbmv"}
    _refused(
        _model(tmp_path, (2, 4, 4), nodes, inits),
        (2, 4, 4),
        r"node 'bn'.*not come from a Conv or Gemm",
    )


def test_model_without_initializers_is_refused(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r")]
    _refused(_model(tmp_path, (4,), nodes, {}), (4,), "no initializers")


def test_old_opset_is_refused(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r")]
    _refused(_model(tmp_path, (4,), nodes, {"u": [1.0]}, opset=10), (4,), "opset 10 is too old")


def test_non_onnx_file_is_refused(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_text("not a model")
    _refused(path, (4,), "is not an ONNX model")


@pytest.mark.parametrize(
    "cal, match",
    [
        (np.zeros((2, 3, 8, 8), np.float64), "dtype float64, must be float32"),
        (np.zeros((2, 8, 8, 3), np.float32), "that is NHWC"),
        (np.zeros((2, 3, 8), np.float32), r"shape \(2, 3, 8\), the model takes \(N, 3, 8, 8\)"),
        (np.full((2, 3, 8, 8), np.nan, np.float32), "NaN"),
    ],
)
def test_bad_calibration_data_is_refused(tmp_path, cal, match):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")]
    path = _model(tmp_path, (3, 8, 8), nodes, {"w": np.ones((2, 3, 3, 3))})
    _refused(path, (3, 8, 8), match, cal=cal)


@pytest.mark.parametrize(
    "labels, match",
    [(np.array([0, 1, 2]), "3 entries for 2 inputs"), (np.array([0, 9]), "class ids 0..9")],
)
def test_bad_labels_are_refused(tmp_path, labels, match):
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)]
    path = _model(tmp_path, (4,), nodes, {"w": np.ones((3, 4))})
    x = np.zeros((2, 4), np.float32)
    with pytest.raises(ConfigError, match=match):
        import_onnx(path, x, name="m", validate=(x, labels))


def test_illegal_override_gives_the_rule(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")]
    path = _model(tmp_path, (1, 8, 8), nodes, {"w": np.ones((2, 1, 3, 3)) * 0.1})
    cal = np.ones((2, 1, 8, 8), np.float32) * 0.5
    with pytest.raises(ConfigError, match="ch_im_in = 1 must be a multiple of 4"):
        import_onnx(path, cal, name="m", overrides={"conv1": "arm_convolve_HWC_q7_fast"})
    with pytest.raises(ConfigError, match="cannot run this layer"):
        import_onnx(path, cal, name="m", overrides={"conv1": "arm_relu_q7"})
    with pytest.raises(ConfigError, match="there is no layer 'conv9'"):
        import_onnx(path, cal, name="m", overrides={"conv9": "arm_relu_q7"})
    with pytest.raises(ConfigError, match="unknown --prefer 'quick'"):
        import_onnx(path, cal, name="m", prefer=("quick",))
