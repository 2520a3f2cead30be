"""Reading, writing and lowering TFLite models: what hil takes and what it refuses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hil.errors import ConfigError
from hil.model.tflite import schema as schema_module
from hil.model.tflite.graph import Graph, Operator, Tensor
from hil.model.tflite.lower import lower_graph
from hil.model.tflite.reader import parse_model, read_model
from hil.model.tflite.writer import serialise

from helpers.s8_models import small_cnn


@pytest.fixture(scope="module")
def cnn() -> Graph:
    return small_cnn(seed=1)[0]


def test_a_written_model_reads_back_the_same(cnn):
    back = parse_model(serialise(cnn))
    assert [op.op for op in back.operators] == [op.op for op in cnn.operators]
    assert back.inputs == cnn.inputs and back.outputs == cnn.outputs
    for a, b in zip(back.tensors, cnn.tensors, strict=True):
        assert (a.name, a.shape, a.dtype, a.zero_point) == (b.name, b.shape, b.dtype, b.zero_point)
        assert np.allclose(a.scale, b.scale, rtol=1e-7)
        assert (a.data is None) == (b.data is None)
        if a.data is not None:
            assert np.array_equal(a.data, b.data)
    conv = back.operators[1]
    assert conv.options["padding"] == "SAME"
    assert conv.options["fused_activation_function"] == "RELU"


def test_lowering_fuses_a_standalone_relu_as_a_clamp(cnn):
    net = lower_graph(cnn)
    conv2 = next(layer for layer in net.layers if layer.name == "conv2")
    assert conv2.tensor == "relu2_out"  # the RELU's output is the layer's
    assert conv2.params["activation_min"] == conv2.output_quant.zero_point
    assert net.float_input and net.float_output


def _replace_op(graph: Graph, index: int, **changes) -> Graph:
    ops = list(graph.operators)
    ops[index] = dataclasses.replace(ops[index], **changes)
    return dataclasses.replace(graph, operators=tuple(ops))


def _replace_tensor(graph: Graph, name: str, **changes) -> Graph:
    tensors = tuple(
        dataclasses.replace(t, **changes) if t.name == name else t for t in graph.tensors
    )
    return dataclasses.replace(graph, tensors=tensors)


def _refusal(graph: Graph) -> str:
    with pytest.raises(ConfigError) as exc:
        lower_graph(graph)
    text = str(exc.value)
    assert "\n" not in text and exc.value.hint
    return text


def test_an_unsupported_operator_is_refused_by_name(cnn):
    assert "operator TANH is not supported" in _refusal(_replace_op(cnn, 1, op="TANH"))


def test_a_relu_with_its_own_scale_is_refused(cnn):
    bad = _replace_tensor(cnn, "relu2_out", scale=(0.5,))
    assert "RELU on 'conv2_out' has its own output scale" in _refusal(bad)


def test_a_float_model_is_refused_with_how_to_quantise(cnn):
    ops = cnn.operators[1:2]  # the first conv, fed float32
    tensors = tuple(
        dataclasses.replace(t, dtype="FLOAT32", scale=(), zero_point=()) if t.name == "input"
        else t
        for t in cnn.tensors
    )  # fmt: skip
    graph = dataclasses.replace(cnn, tensors=tensors, operators=ops, outputs=ops[0].outputs)
    with pytest.raises(ConfigError) as exc:
        lower_graph(graph)
    assert "float model" in str(exc.value) and "representative dataset" in exc.value.hint


def test_a_branch_is_refused(cnn):
    bad = _replace_op(cnn, 3, inputs=(2,) + cnn.operators[3].inputs[1:])
    assert "does not read the previous operator's output" in _refusal(bad)


def test_quantize_inside_the_model_is_refused(cnn):
    op = cnn.operators[2]
    bad = _replace_op(cnn, 2, op="QUANTIZE", inputs=op.inputs[:1], options={})
    assert "QUANTIZE inside the model" in _refusal(bad)


def test_a_softmax_without_the_int8_output_quantisation_is_refused(cnn):
    bad = _replace_tensor(cnn, "softmax_out", zero_point=(0,))
    assert "not scale 1/256, zero point -128" in _refusal(bad)


def test_a_file_that_is_not_tflite_is_one_line(tmp_path):
    path = tmp_path / "model.tflite"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(ConfigError, match="not a TFLite flatbuffer"):
        read_model(path)
    with pytest.raises(ConfigError, match="cannot read"):
        read_model(tmp_path / "absent.tflite")


def test_a_damaged_flatbuffer_is_one_line(cnn):
    data = serialise(cnn)
    with pytest.raises(ConfigError, match="damaged TFLite flatbuffer"):
        parse_model(data[:200])


def test_without_the_tflite_extra_the_error_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tflite_micro(name, *args, **kwargs):
        if name.startswith("tflite_micro"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tflite_micro)
    with pytest.raises(ConfigError) as exc:
        schema_module.schema()
    assert "pip install 'hil[tflite]'" in exc.value.hint


def test_the_schema_seam_has_what_hil_uses():
    s = schema_module.schema()
    for name in ("ModelT", "SubGraphT", "TensorT", "OperatorT", "OperatorCodeT", "BufferT",
                 "QuantizationParametersT", "Conv2DOptionsT", "DepthwiseConv2DOptionsT",
                 "FullyConnectedOptionsT", "Pool2DOptionsT", "SoftmaxOptionsT"):  # fmt: skip
        assert hasattr(s, name), name
    assert s.BuiltinOperator.CONV_2D == 3 and s.TensorType.INT8 == 9


def test_tensor_shapes_survive_as_ints():
    t = Tensor("x", (1, 2), "INT8", (0.5,), (3,))
    g = Graph((t, Tensor("y", (1, 2), "INT8", (0.5,), (3,))),
              (Operator("RESHAPE", (0,), (1,)),), (0,), (1,))  # fmt: skip
    back = parse_model(serialise(g))
    assert back.tensors[0].shape == (1, 2) and back.tensors[0].zero_point == (3,)
