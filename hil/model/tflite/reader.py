"""Read a .tflite file into a Graph (its first subgraph)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hil.errors import ConfigError
from hil.model.tflite.graph import DTYPES, Graph, Operator, Tensor, snake
from hil.model.tflite.schema import FILE_IDENTIFIER, enum_names, schema

# Option fields whose values are enums, by their schema enum class.
ENUM_OPTIONS = {"padding": "Padding", "fusedActivationFunction": "ActivationFunctionType"}


def _options(s: Any, options: Any) -> dict[str, Any]:
    if options is None:
        return {}
    out: dict[str, Any] = {}
    for key, value in vars(options).items():
        if key in ENUM_OPTIONS:
            value = enum_names(getattr(s, ENUM_OPTIONS[key])).get(value, value)
        elif isinstance(value, np.ndarray):
            value = tuple(int(v) for v in value)
        out[snake(key)] = value
    return out


def _tensor(s: Any, t: Any, buffers: list[Any], types: dict[int, str]) -> Tensor:
    dtype = types.get(t.type, str(t.type))
    q = t.quantization
    scale = tuple(float(v) for v in q.scale) if q is not None and q.scale is not None else ()
    zero = tuple(int(v) for v in q.zeroPoint) if q is not None and q.zeroPoint is not None else ()
    shape = tuple(int(d) for d in t.shape) if t.shape is not None else ()
    data: np.ndarray | None = None
    buffer = buffers[t.buffer] if 0 < t.buffer < len(buffers) else None
    if buffer is not None and buffer.data is not None and len(buffer.data):
        if dtype not in DTYPES:
            raise ConfigError(
                f"tensor '{_name(t)}' holds {dtype} data, which hil does not read",
                hint="give a full-int8 model (int8 weights, int32 biases)",
            )
        raw = np.asarray(buffer.data, dtype=np.uint8).tobytes()
        data = np.frombuffer(raw, dtype=DTYPES[dtype]).reshape(shape).copy()
    return Tensor(
        name=_name(t),
        shape=shape,
        dtype=dtype,
        scale=scale,
        zero_point=zero,
        quantized_dimension=int(q.quantizedDimension) if q is not None else 0,
        data=data,
    )


def _name(t: Any) -> str:
    name = t.name
    return name.decode() if isinstance(name, bytes) else str(name or "")


def parse_model(data: bytes, what: str = "model") -> Graph:
    """The first subgraph of a serialised TFLite model."""
    s = schema()
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise ConfigError(
            f"{what} is not a TFLite flatbuffer (no TFL3 identifier)",
            hint="give a .tflite file written by the TFLite converter",
        )
    try:
        model = s.ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception as exc:  # a truncated or corrupt flatbuffer raises anything
        raise ConfigError(
            f"{what} is a damaged TFLite flatbuffer ({type(exc).__name__})",
            hint="convert the model again",
        ) from exc
    if not model.subgraphs:
        raise ConfigError(f"{what} has no subgraph", hint="convert the model again")
    ops = enum_names(s.BuiltinOperator)
    types = enum_names(s.TensorType)
    graph = model.subgraphs[0]
    buffers = list(model.buffers or [])
    tensors = tuple(_tensor(s, t, buffers, types) for t in graph.tensors or [])
    operators = []
    for op in graph.operators or []:
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        name = ops.get(builtin, f"builtin {builtin}")
        if code.customCode:
            custom = code.customCode
            name = f"custom {custom.decode() if isinstance(custom, bytes) else custom}"
        operators.append(
            Operator(
                op=name,
                inputs=tuple(int(i) for i in (op.inputs if op.inputs is not None else [])),
                outputs=tuple(int(i) for i in (op.outputs if op.outputs is not None else [])),
                options=_options(s, op.builtinOptions),
            )
        )
    description = model.description
    return Graph(
        tensors=tensors,
        operators=tuple(operators),
        inputs=tuple(int(i) for i in graph.inputs),
        outputs=tuple(int(i) for i in graph.outputs),
        description=description.decode() if isinstance(description, bytes) else "",
    )


def read_model(path: Path) -> Graph:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror or exc}", hint="check the model path"
        ) from exc
    return parse_model(data, str(path))
