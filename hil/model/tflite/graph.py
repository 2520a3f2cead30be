"""A TFLite model's main subgraph as plain data, independent of the flatbuffer classes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# TensorType name -> numpy dtype, for the types hil reads or writes.
DTYPES = {
    "FLOAT32": np.float32,
    "INT8": np.int8,
    "UINT8": np.uint8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "BOOL": np.bool_,
}


@dataclass(frozen=True)
class Tensor:
    """One tensor: shape, type, quantisation and, for constants, its data."""

    name: str
    shape: tuple[int, ...]
    dtype: str  # a TensorType name: "INT8", "INT32", "FLOAT32", ...
    scale: tuple[float, ...] = ()
    zero_point: tuple[int, ...] = ()
    quantized_dimension: int = 0
    data: np.ndarray | None = None  # constant tensors only, shaped as ``shape``

    @property
    def quantised(self) -> bool:
        return bool(self.scale)

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True)
class Operator:
    """One operator: its builtin name, tensor indices (-1: absent) and options.

    ``options`` uses snake_case keys (``stride_w``, ``fused_activation_function``)
    with enum values by name (``"SAME"``, ``"RELU6"``)."""

    op: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Graph:
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    description: str = ""


def snake(name: str) -> str:
    """``strideW`` -> ``stride_w``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camel(name: str) -> str:
    """``stride_w`` -> ``strideW``."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
