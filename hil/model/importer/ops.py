"""The float operations an ONNX graph is read into, before quantisation.

Shapes are the float model's: images are (C, H, W), vectors (n,). Weights
keep ONNX's own layout (OIHW for convolutions, [out][in] for dense layers);
layout.py moves them to what the C functions read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Image = tuple[int, int, int]  # (C, H, W)


@dataclass
class FloatOp:
    name: str  # the layer name (derived from the ONNX node's name)
    node: str  # the ONNX node's name, for messages
    onnx_op: str  # op_type, or "Conv+BatchNormalization" after folding
    out_tensor: str  # the float tensor this op's output is


@dataclass
class Conv(FloatOp):
    weight: np.ndarray  # (O, I, kh, kw); I = 1 for depthwise
    bias: np.ndarray  # (O,)
    stride: tuple[int, int]  # (y, x)
    pad: tuple[int, int]  # (y, x), symmetric
    depthwise: bool
    in_shape: Image
    out_shape: Image


@dataclass
class Dense(FloatOp):
    weight: np.ndarray  # (out, in), columns in the float model's order
    bias: np.ndarray  # (out,)
    flattened_from: Image | None  # set when the input is a flattened (C, H, W) image


@dataclass
class Pool(FloatOp):
    kind: str  # "max" or "avg"
    kernel: int
    stride: int
    pad: int
    in_shape: Image
    out_shape: Image


@dataclass
class Activation(FloatOp):
    kind: str  # "relu", "sigmoid", "tanh" or "softmax"
    size: int
    image: Image | None  # its shape when it acts on an image


def shape_of(op: FloatOp, before: Image | tuple[int]) -> Image | tuple[int]:
    """The float shape of ``op``'s output given its input's."""
    if isinstance(op, (Conv, Pool)):
        return op.out_shape
    if isinstance(op, Dense):
        return (int(op.weight.shape[0]),)
    return before
