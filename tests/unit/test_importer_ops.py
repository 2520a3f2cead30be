"""hil import on small ONNX models built here: every supported op, the kernel chosen,
and the q7 reference's dequantised output close to onnxruntime's.

The bound: on the calibration data, the final layer's dequantised q7 output has
cosine similarity >= 0.99 with the float output and its RMSE is at most 10% of
the float output's RMS. Power-of-two q7 keeps 5-7 significant bits per tensor,
which for these shallow random networks gives cosines above 0.995.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hil.model.importer import import_onnx
from hil.model.importer.layout import tensor_hwc
from hil.reference.network import run_network_batch

COSINE_MIN = 0.99
RMSE_SHARE_MAX = 0.10


class Builder:
    """A sequential ONNX graph, node by node, with seeded random weights."""

    def __init__(self, shape: tuple[int, ...], seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.shape = shape
        self.nodes: list = []
        self.inits: list = []
        self.last = "x"
        self.n = 0

    def const(self, arr: np.ndarray, dtype: type = np.float32) -> str:
        self.n += 1
        name = f"c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype), name))
        return name

    def weights(self, *shape: int, scale: float = 0.3) -> str:
        return self.const(self.rng.normal(0, scale, shape))

    def node(self, op: str, *extra: str, name: str | None = None, **attrs) -> str:
        self.n += 1
        out = f"t{self.n}"
        self.nodes.append(
            helper.make_node(
                op, [self.last, *extra], [out], name=name or f"{op.lower()}{self.n}", **attrs
            )
        )
        self.last = out
        return out

    def save(self, path, opset: int = 13) -> str:
        graph = helper.make_graph(
            self.nodes,
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *self.shape])],
            [helper.make_tensor_value_info(self.last, TensorProto.FLOAT, None)],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        onnx.save(model, str(path))
        return str(path)

    def calibration(self, n: int = 32) -> np.ndarray:
        return self.rng.uniform(-1, 1, (n, *self.shape)).astype(np.float32)


def _import(b: Builder, tmp_path, **kw):
    cal = b.calibration()
    result = import_onnx(b.save(tmp_path / "m.onnx"), cal, name="m", **kw)
    return result, cal


def _assert_close(result, cal, layer: int = -1) -> None:
    """The q7 reference output of ``layer`` dequantised is close to the float tensor."""
    import onnxruntime as ort

    net = result.network
    q = net.quantisation
    scaled = np.clip(np.sign(cal) * np.floor(np.abs(cal) * 2.0**q.input_frac_bits + 0.5), -128, 127)
    x = scaled.astype(np.int8)
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
    got = run_network_batch(net, np.ascontiguousarray(x))[layer]
    target = net.layers[layer]
    proto = onnx.load(str(q.float_model))
    proto.graph.output.append(onnx.ValueInfoProto(name=target.float_tensor))
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in proto.graph.output]
    values = dict(zip(names, session.run(names, {"x": cal})))
    want = tensor_hwc(values[target.float_tensor]).astype(np.float64)
    deq = got.astype(np.float64) / 2.0**target.out_frac_bits
    cos = float(np.sum(want * deq) / (np.linalg.norm(want) * np.linalg.norm(deq)))
    rmse = float(np.sqrt(np.mean((want - deq) ** 2)))
    rms = float(np.sqrt(np.mean(want**2)))
    assert cos >= COSINE_MIN, (target.name, cos)
    assert rmse <= RMSE_SHARE_MAX * rms, (target.name, rmse, rms)


def _functions(result) -> list[str]:
    return [layer.function for layer in result.network.layers]


def test_lenet_shape_network_with_every_common_op(tmp_path):
    b = Builder((1, 16, 16))
    b.node("Conv", b.weights(8, 1, 3, 3), b.weights(8, scale=0.1), pads=[1, 1, 1, 1], name="conv1")
    b.node(
        "BatchNormalization",
        *(b.const(v) for v in (np.full(8, 1.2), np.full(8, 0.1), np.zeros(8), np.ones(8))),
        name="bn1",
    )
    b.node("Relu", name="relu1")
    b.node("MaxPool", kernel_shape=[2, 2], strides=[2, 2], name="pool1")
    b.node("Conv", b.weights(8, 8, 3, 3, scale=0.2), b.weights(8, scale=0.1), name="conv2")
    b.node("Relu", name="relu2")
    b.node("AveragePool", kernel_shape=[2, 2], strides=[2, 2], name="pool2")
    b.node("Flatten", name="flat")
    b.node("Gemm", b.weights(16, 72, scale=0.2), b.weights(16, scale=0.1), transB=1, name="fc1")
    b.node("Dropout", name="drop")
    b.node("Relu", name="relu3")
    b.node("Gemm", b.weights(16, 10, scale=0.3), b.weights(10, scale=0.1), name="fc2")
    b.node("Softmax", axis=1, name="prob")
    result, cal = _import(b, tmp_path)
    assert _functions(result) == [
        "arm_convolve_HWC_q7_basic",  # 1 input channel: not _fast
        "arm_relu_q7",
        "arm_maxpool_q7_HWC",
        "arm_convolve_HWC_q7_fast",  # 8 in, 8 out, no padding
        "arm_relu_q7",
        "arm_avepool_q7_HWC",
        "arm_fully_connected_q7_opt",
        "arm_relu_q7",
        "arm_fully_connected_q7_opt",
        "arm_softmax_q7",
    ]
    assert result.network.layers[0].float_tensor == "t" + str(
        int(result.network.layers[0].float_tensor[1:])
    )
    _assert_close(result, cal, layer=-2)  # the logits; softmax's base-2 semantics differ
    diag = result.calibration
    assert diag.layers[diag.worst].function != "arm_softmax_q7"
    assert float(np.mean(diag.q7_top1 == diag.float_top1)) >= 0.8
    assert any("arm_softmax_q7 computes 2^v" in n for n in result.notes)
    assert any("truncating" in n for n in result.notes)


def test_batchnorm_is_folded_into_the_conv(tmp_path):
    b = Builder((4, 6, 6))
    b.node("Conv", b.weights(4, 4, 3, 3), pads=[1, 1, 1, 1], name="c")
    gamma, beta = np.array([0.5, 1.5, 2.0, 1.0]), np.array([0.1, -0.2, 0.3, 0.0])
    b.node(
        "BatchNormalization",
        b.const(gamma),
        b.const(beta),
        b.const(np.full(4, 0.2)),
        b.const(np.full(4, 0.5)),
        name="bn",
    )
    result, cal = _import(b, tmp_path)
    assert len(result.network.layers) == 1
    assert result.layers[0].onnx_op == "Conv+BatchNormalization"
    assert result.network.layers[0].float_tensor == b.last
    _assert_close(result, cal)


def test_batchnorm_is_folded_into_the_gemm(tmp_path):
    b = Builder((12,))
    b.node("Gemm", b.weights(12, 6), transB=0, name="fc")
    b.node(
        "BatchNormalization",
        *(b.const(v) for v in (np.full(6, 2.0), np.full(6, 0.5), np.zeros(6), np.full(6, 4.0))),
        name="bn",
    )
    result, cal = _import(b, tmp_path)
    assert result.layers[0].onnx_op == "Gemm+BatchNormalization"
    _assert_close(result, cal)


@pytest.mark.parametrize("trans_b", [0, 1])
def test_both_gemm_forms(tmp_path, trans_b):
    b = Builder((20,))
    shape = (7, 20) if trans_b else (20, 7)
    b.node("Gemm", b.weights(*shape), b.weights(7, scale=0.1), transB=trans_b, alpha=0.5, beta=2.0)
    result, cal = _import(b, tmp_path)
    assert _functions(result) == ["arm_fully_connected_q7_opt"]
    _assert_close(result, cal)


def test_matmul_plus_add_and_bare_matmul(tmp_path):
    b = Builder((10,))
    b.node("MatMul", b.weights(10, 8), name="mm1")
    b.node("Add", b.weights(8, scale=0.1), name="add1")
    b.node("Relu")
    b.node("MatMul", b.weights(8, 4), name="mm2")
    result, cal = _import(b, tmp_path)
    assert [r.onnx_op for r in result.layers] == ["MatMul+Add", "Relu", "MatMul"]
    _assert_close(result, cal)


def test_flatten_permutes_the_first_dense_layer_to_hwc(tmp_path):
    # 3 channels over 4x4 pixels: CHW and HWC orders differ everywhere.
    b = Builder((3, 4, 4))
    b.node("Relu")
    b.node("Reshape", b.const(np.array([-1, 48]), np.int64))
    b.node("Gemm", b.weights(5, 48), transB=1)
    result, cal = _import(b, tmp_path)
    _assert_close(result, cal)
    # Without the permutation the same weights would give a different answer.
    fc = result.network.layers[1]
    assert fc.function == "arm_fully_connected_q7_opt"


def test_depthwise_square_and_nonsquare(tmp_path):
    b = Builder((4, 8, 8))
    b.node("Conv", b.weights(4, 1, 3, 3), b.weights(4, scale=0.1), group=4, pads=[1, 1, 1, 1])
    b.node("Conv", b.weights(4, 1, 1, 3), b.weights(4, scale=0.1), group=4, pads=[0, 1, 0, 1])
    result, cal = _import(b, tmp_path)
    assert _functions(result) == [
        "arm_depthwise_separable_conv_HWC_q7",
        "arm_depthwise_separable_conv_HWC_q7_nonsquare",
    ]
    _assert_close(result, cal)


def test_nonsquare_input_and_kernel(tmp_path):
    b = Builder((4, 6, 10))
    b.node("Conv", b.weights(4, 4, 3, 5), pads=[1, 2, 1, 2], strides=[1, 2])
    b.node("Conv", b.weights(3, 4, 3, 3), name="basic_ns")  # 3 outputs: not _fast
    result, cal = _import(b, tmp_path)
    assert _functions(result) == [
        "arm_convolve_HWC_q7_fast_nonsquare",
        "arm_convolve_HWC_q7_basic_nonsquare",
    ]
    _assert_close(result, cal)


def test_rgb_and_1x1_kernels(tmp_path):
    b = Builder((3, 8, 8))
    b.node("Conv", b.weights(8, 3, 3, 3), pads=[1, 1, 1, 1])
    b.node("Relu")
    b.node("Conv", b.weights(4, 8, 1, 1, scale=0.2))
    result, cal = _import(b, tmp_path)
    assert _functions(result) == [
        "arm_convolve_HWC_q7_RGB",
        "arm_relu_q7",
        "arm_convolve_1x1_HWC_q7_fast_nonsquare",
    ]
    _assert_close(result, cal)


def test_global_average_pool_and_identity(tmp_path):
    b = Builder((4, 4, 4))
    b.node("Identity")
    b.node("GlobalAveragePool")
    b.node("Flatten")
    b.node("Gemm", b.weights(3, 4), transB=1)
    result, cal = _import(b, tmp_path)
    assert _functions(result) == ["arm_avepool_q7_HWC", "arm_fully_connected_q7_opt"]
    assert result.network.layers[0].params["dim_kernel"] == 4
    _assert_close(result, cal)


@pytest.mark.parametrize("op, kind", [("Sigmoid", 0), ("Tanh", 1)])
def test_sigmoid_and_tanh_use_the_table_kernel(tmp_path, op, kind):
    b = Builder((16,))
    b.node("Gemm", b.weights(8, 16, scale=1.0), transB=1)
    b.node(op)
    result, cal = _import(b, tmp_path)
    act = result.network.layers[1]
    assert act.function == "arm_nn_activations_direct_q7"
    assert act.params["type"] == kind
    fc = result.network.layers[0]
    assert 4 <= fc.out_frac_bits <= 7 and act.params["int_width"] == 7 - fc.out_frac_bits
    assert act.out_frac_bits == 7
    _assert_close(result, cal)


def test_prefer_and_overrides_force_a_choice(tmp_path):
    b = Builder((8, 6, 6))
    b.node("Conv", b.weights(8, 8, 3, 3), name="conv1")
    b.node("Flatten")
    b.node("Gemm", b.weights(4, 128), transB=1, name="fc")
    result, cal = _import(b, tmp_path, prefer=("basic",))
    assert _functions(result) == ["arm_convolve_HWC_q7_basic", "arm_fully_connected_q7"]
    assert result.layers[0].why.startswith("--prefer")
    _assert_close(result, cal)
    forced, _ = _import(b, tmp_path, overrides={"conv1": "arm_convolve_HWC_q7_basic_nonsquare"})
    assert forced.network.layers[0].function == "arm_convolve_HWC_q7_basic_nonsquare"
    assert forced.layers[0].why == "forced by --kernel"
    _assert_close(forced, cal)


@pytest.mark.parametrize("method", ["percentile", "kl"])
def test_percentile_and_kl_stay_close_to_the_float_model(tmp_path, method):
    b = Builder((4, 8, 8))
    b.node("Conv", b.weights(8, 4, 3, 3), pads=[1, 1, 1, 1])
    b.node("Relu")
    b.node("Flatten")
    b.node("Gemm", b.weights(10, 512, scale=0.05), transB=1)
    result, cal = _import(b, tmp_path, method=method)
    assert result.network.quantisation.calibration == method
    _assert_close(result, cal)
    diag = result.calibration
    assert float(np.mean(diag.q7_top1 == diag.float_top1)) >= 0.8
