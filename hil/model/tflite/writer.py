"""Write a Graph as a .tflite flatbuffer (test models, and models hil makes)."""

from __future__ import annotations

from typing import Any

import flatbuffers
import numpy as np

from hil.model.tflite.graph import DTYPES, Graph, Operator, Tensor, camel
from hil.model.tflite.reader import ENUM_OPTIONS
from hil.model.tflite.schema import FILE_IDENTIFIER, schema

SCHEMA_VERSION = 3
# Builtin op -> (its options class stem, e.g. "Conv2D" for Conv2DOptions).
OPTIONS = {
    "CONV_2D": "Conv2D",
    "DEPTHWISE_CONV_2D": "DepthwiseConv2D",
    "FULLY_CONNECTED": "FullyConnected",
    "MAX_POOL_2D": "Pool2D",
    "AVERAGE_POOL_2D": "Pool2D",
    "SOFTMAX": "Softmax",
    "RESHAPE": "Reshape",
    "QUANTIZE": "Quantize",
    "DEQUANTIZE": "Dequantize",
}


def _tensor_t(s: Any, t: Tensor, buffer: int) -> Any:
    out = s.TensorT()
    out.name = t.name
    out.shape = list(t.shape)
    out.type = getattr(s.TensorType, t.dtype)
    out.buffer = buffer
    if t.scale:
        q = s.QuantizationParametersT()
        q.scale = [float(v) for v in t.scale]
        q.zeroPoint = [int(v) for v in t.zero_point]
        q.quantizedDimension = t.quantized_dimension
        out.quantization = q
    return out


def _options_t(s: Any, op: Operator) -> tuple[int, Any]:
    stem = OPTIONS.get(op.op)
    if stem is None:
        return 0, None
    options = getattr(s, f"{stem}OptionsT")()
    for key, value in op.options.items():
        name = camel(key)
        if not hasattr(options, name):
            raise ValueError(f"{op.op} has no option {key}")
        if name in ENUM_OPTIONS and isinstance(value, str):
            value = getattr(getattr(s, ENUM_OPTIONS[name]), value)
        setattr(options, name, list(value) if isinstance(value, tuple) else value)
    return getattr(s.BuiltinOptions, f"{stem}Options"), options


def serialise(graph: Graph) -> bytes:
    """The flatbuffer bytes of ``graph`` as a one-subgraph TFLite model."""
    s = schema()
    model = s.ModelT()
    model.version = SCHEMA_VERSION
    model.description = graph.description or "hil"
    buffers = [s.BufferT()]  # buffer 0: the empty one every non-constant tensor uses
    tensors = []
    for t in graph.tensors:
        index = 0
        if t.data is not None:
            b = s.BufferT()
            raw = np.ascontiguousarray(t.data, dtype=DTYPES[t.dtype]).tobytes()
            b.data = np.frombuffer(raw, dtype=np.uint8)  # packed as one vector
            buffers.append(b)
            index = len(buffers) - 1
        tensors.append(_tensor_t(s, t, index))
    codes: list[str] = list(dict.fromkeys(op.op for op in graph.operators))
    model.operatorCodes = []
    for name in codes:
        code = s.OperatorCodeT()
        value = getattr(s.BuiltinOperator, name)
        code.builtinCode = value
        code.deprecatedBuiltinCode = min(value, 127)
        code.version = 1
        model.operatorCodes.append(code)
    sub = s.SubGraphT()
    sub.tensors = tensors
    sub.inputs = list(graph.inputs)
    sub.outputs = list(graph.outputs)
    sub.operators = []
    for op in graph.operators:
        o = s.OperatorT()
        o.opcodeIndex = codes.index(op.op)
        o.inputs = list(op.inputs)
        o.outputs = list(op.outputs)
        o.builtinOptionsType, o.builtinOptions = _options_t(s, op)
        sub.operators.append(o)
    sub.name = "main"
    model.subgraphs = [sub]
    model.buffers = buffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())
