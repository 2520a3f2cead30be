"""Read a sequential ONNX graph into FloatOps: one walk from input to output.

Every node must take the previous node's output as its one data input
(weights come from initializers or Constant nodes); a node that joins or
splits the chain (Add, Concat, a tensor used twice) is refused by name.
BatchNormalization is folded into the Conv or Gemm before it, MatMul+Add
becomes one dense layer, Dropout and Identity disappear. Anything the
CMSIS-NN legacy kernels cannot express is refused with the node, its op,
the attribute at fault and what is supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hil.errors import ConfigError
from hil.model.float_model import load_onnx, require_onnx
from hil.model.importer.ops import Activation, Conv, Dense, FloatOp, Image, Pool

MIN_OPSET = 11
SUPPORTED_OPS = (
    "Conv, BatchNormalization (after Conv or Gemm), Relu, MaxPool, AveragePool, "
    "GlobalAveragePool, Flatten, Reshape (to a vector), Gemm, MatMul(+Add), Softmax, "
    "Sigmoid, Tanh, Dropout, Identity"
)
_PASS_THROUGH = ("Dropout", "Identity")
_ELEMENTWISE = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}
_JOINS = ("Add", "Sum", "Concat", "Mul", "Sub", "Div")


def refuse(node: Any, attribute: str, problem: str, supported: str) -> ConfigError:
    return ConfigError(
        f"node '{node.name or node.op_type}' ({node.op_type}): {attribute} {problem}",
        hint=f"supported: {supported}",
    )


@dataclass
class Graph:
    """The float ops in order, with what the importer needs about the input and output."""

    ops: list[FloatOp]
    input_name: str
    input_shape: tuple[int, ...]  # without the batch axis: (C, H, W) or (n,)
    output_name: str
    path: Path
    notes: list[str] = field(default_factory=list)  # semantics hil changes, for the report


class _Reader:
    def __init__(self, path: Path, model: Any) -> None:
        self.onnx, _ = require_onnx()
        self.path = path
        self.graph = model.graph
        self.consts: dict[str, np.ndarray] = {
            t.name: self.onnx.numpy_helper.to_array(t) for t in self.graph.initializer
        }
        self.consumers: dict[str, list[Any]] = {}
        for node in self.graph.node:
            if node.op_type == "Constant":
                self.consts[node.output[0]] = self._constant(node)
                continue
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(node)
        self.names: set[str] = set()
        self.ops: list[FloatOp] = []
        self.notes: list[str] = []
        self.opset = MIN_OPSET

    def _constant(self, node: Any) -> np.ndarray:
        for attr in node.attribute:
            if attr.name == "value":
                return self.onnx.numpy_helper.to_array(attr.t)
        raise refuse(node, "value", "is missing", "Constant nodes with a tensor value")

    def attrs(self, node: Any) -> dict[str, Any]:
        return {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}

    def const(self, node: Any, index: int, what: str) -> np.ndarray:
        name = node.input[index] if index < len(node.input) else ""
        if name not in self.consts:
            raise refuse(
                node, what, "is not a constant (initializer)", "weights stored in the model"
            )
        return self.consts[name].astype(np.float64)

    def layer_name(self, node: Any) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", node.name or node.op_type.lower()).strip("_-")
        base = (base if re.match(r"[A-Za-z_]", base or "") else f"l_{base}")[:56]
        name, n = base, 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names.add(name)
        return name


def _ints(value: Any, default: list[int]) -> list[int]:
    return [int(v) for v in value] if value is not None else list(default)


def _spatial(reader: _Reader, node: Any, attrs: dict, kernel: tuple[int, int], shape: Image):
    """(stride, pad) per (y, x) for Conv and pooling nodes; refuses what no kernel does."""
    strides = _ints(attrs.get("strides"), [1, 1])
    dilations = _ints(attrs.get("dilations"), [1, 1])
    if any(d != 1 for d in dilations):
        raise refuse(node, "dilations", f"= {dilations} is not supported", "dilations [1, 1]")
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad == "VALID":
        pads = [0, 0, 0, 0]
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for axis in range(2):
            size = shape[1 + axis]
            out = -(-size // strides[axis])
            total = max(0, (out - 1) * strides[axis] + kernel[axis] - size)
            pads.append(total // 2)
            pads.append(total - total // 2)
        pads = [pads[0], pads[2], pads[1], pads[3]]
    else:
        pads = _ints(attrs.get("pads"), [0, 0, 0, 0])
    if len(pads) != 4 or pads[0] != pads[2] or pads[1] != pads[3]:
        raise refuse(
            node,
            "pads",
            f"= {pads} is asymmetric",
            "the same padding before and after on each axis (CMSIS-NN pads symmetrically)",
        )
    if len(strides) != 2:
        raise refuse(node, "strides", f"= {strides} is not 2-D", "2-D images")
    return (strides[0], strides[1]), (pads[0], pads[1])


def _out_dim(size: int, kernel: int, pad: int, stride: int) -> int:
    return (size + 2 * pad - kernel) // stride + 1


def _read_conv(r: _Reader, node: Any, shape: Image) -> Conv:
    attrs = r.attrs(node)
    w = r.const(node, 1, "weights (input 1)")
    if w.ndim != 4:
        raise refuse(node, "weights", f"have shape {w.shape}", "2-D convolutions (OIHW weights)")
    out_ch, in_per_group, kh, kw = w.shape
    b = r.const(node, 2, "bias (input 2)") if len(node.input) > 2 and node.input[2] else None
    group = int(attrs.get("group", 1))
    depthwise = group != 1
    if depthwise and not (group == shape[0] == out_ch and in_per_group == 1):
        raise refuse(
            node,
            "group",
            f"= {group} with {shape[0]} input and {out_ch} output channels is not supported",
            "group = 1, or depthwise with group = channels and a channel multiplier of 1",
        )
    if not depthwise and in_per_group != shape[0]:
        raise refuse(node, "weights", f"take {in_per_group} channels, the input has {shape[0]}", "")
    stride, pad = _spatial(r, node, attrs, (kh, kw), shape)
    out = (
        out_ch,
        _out_dim(shape[1], kh, pad[0], stride[0]),
        _out_dim(shape[2], kw, pad[1], stride[1]),
    )
    return Conv(
        name=r.layer_name(node),
        node=node.name or node.op_type,
        onnx_op="Conv",
        out_tensor=node.output[0],
        weight=w,
        bias=np.zeros(out_ch) if b is None else b.reshape(out_ch),
        stride=stride,
        pad=pad,
        depthwise=depthwise,
        in_shape=shape,
        out_shape=out,
    )


def _read_pool(r: _Reader, node: Any, shape: Image) -> Pool:
    kind = "max" if node.op_type == "MaxPool" else "avg"
    if node.op_type == "GlobalAveragePool":
        kernel, stride, pad = (shape[1], shape[2]), (1, 1), (0, 0)
        attrs: dict[str, Any] = {}
    else:
        attrs = r.attrs(node)
        kernel_shape = _ints(attrs.get("kernel_shape"), [])
        if len(kernel_shape) != 2:
            raise refuse(node, "kernel_shape", f"= {kernel_shape} is not 2-D", "2-D pooling")
        kernel = (kernel_shape[0], kernel_shape[1])
        stride, pad = _spatial(r, node, attrs, kernel, shape)
        if len([o for o in node.output if o]) > 1:
            raise refuse(node, "output Indices", "is used", "MaxPool without its Indices output")
    what = "kernel" if kernel[0] != kernel[1] else "stride" if stride[0] != stride[1] else None
    what = what or ("pads" if pad[0] != pad[1] else "input" if shape[1] != shape[2] else None)
    if what is not None:
        value = {"kernel": kernel, "stride": stride, "pads": pad, "input": shape[1:]}[what]
        raise refuse(
            node,
            what,
            f"= {value} is not square: no CMSIS-NN pooling kernel is non-square",
            "square input, kernel, stride and padding (arm_maxpool_q7_HWC, arm_avepool_q7_HWC)",
        )
    if kind == "avg" and int(attrs.get("count_include_pad", 0)) and pad[0] > 0:
        raise refuse(
            node,
            "count_include_pad",
            "= 1 with padding is not supported",
            "count_include_pad = 0 (arm_avepool_q7_HWC divides by the in-image taps)",
        )
    out_dim = _out_dim(shape[1], kernel[0], pad[0], stride[0])
    if int(attrs.get("ceil_mode", 0)):
        ceil_dim = -(-(shape[1] + 2 * pad[0] - kernel[0]) // stride[0]) + 1
        if ceil_dim != out_dim:
            raise refuse(node, "ceil_mode", "= 1 changes the output size", "ceil_mode = 0")
    return Pool(
        name=r.layer_name(node),
        node=node.name or node.op_type,
        onnx_op=node.op_type,
        out_tensor=node.output[0],
        kind=kind,
        kernel=kernel[0],
        stride=stride[0],
        pad=pad[0],
        in_shape=shape,
        out_shape=(shape[0], out_dim, out_dim),
    )


def _read_gemm(r: _Reader, node: Any, size: int, flattened: Image | None) -> Dense:
    attrs = r.attrs(node)
    if int(attrs.get("transA", 0)):
        raise refuse(node, "transA", "= 1 is not supported", "transA = 0")
    w = r.const(node, 1, "weights (input B)") * float(attrs.get("alpha", 1.0))
    if w.ndim != 2:
        raise refuse(node, "B", f"has shape {w.shape}", "a 2-D weight matrix")
    w = w if int(attrs.get("transB", 0)) else w.T  # to [out][in]
    bias = np.zeros(w.shape[0])
    if len(node.input) > 2 and node.input[2]:
        c = r.const(node, 2, "bias (input C)") * float(attrs.get("beta", 1.0))
        bias = np.broadcast_to(c.reshape(-1) if c.size == w.shape[0] else c, (w.shape[0],)).copy()
    return _dense(r, node, "Gemm", node.output[0], w, bias, size, flattened)


def _dense(r, node, op, out, w, bias, size, flattened) -> Dense:
    if w.shape[1] != size:
        raise refuse(node, "weights", f"take {w.shape[1]} inputs, the tensor has {size}", "")
    return Dense(
        name=r.layer_name(node),
        node=node.name or node.op_type,
        onnx_op=op,
        out_tensor=out,
        weight=w,
        bias=bias,
        flattened_from=flattened,
    )


def _fold_batchnorm(r: _Reader, node: Any) -> None:
    prev = r.ops[-1] if r.ops else None
    if not isinstance(prev, (Conv, Dense)) or prev.onnx_op.endswith("BatchNormalization"):
        raise refuse(
            node,
            "input",
            "does not come from a Conv or Gemm",
            "BatchNormalization right after a Conv or Gemm (it is folded into its weights)",
        )
    scale, beta, mean, var = (
        r.const(node, i, n) for i, n in enumerate(("scale", "B", "mean", "var"), 1)
    )
    eps = float(r.attrs(node).get("epsilon", 1e-5))
    factor = scale / np.sqrt(var + eps)
    shape = (-1,) + (1,) * (prev.weight.ndim - 1)
    prev.weight = prev.weight * factor.reshape(shape)
    prev.bias = (prev.bias - mean) * factor + beta
    prev.onnx_op += "+BatchNormalization"
    prev.out_tensor = node.output[0]


def read_graph(path: str | Path) -> Graph:
    """The sequential float ops of the ONNX model at ``path``."""
    path = Path(path)
    model = load_onnx(path)
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        raise ConfigError(
            f"{path}: opset {opset} is too old (hil reads opset {MIN_OPSET} and up)",
            hint="re-export with opset_version=13 (torch.onnx.export) or --opset 13 (tf2onnx)",
        )
    r = _Reader(path, model)
    r.opset = opset
    if not r.consts:
        raise ConfigError(
            f"{path}: the model has no initializers (no weights)",
            hint="export it with its weights (torch.onnx.export(..., export_params=True))",
        )
    inputs = [i for i in model.graph.input if i.name not in r.consts]
    if len(inputs) != 1:
        raise ConfigError(
            f"{path}: the model has {len(inputs)} inputs, hil takes one",
            hint="export the model with a single input tensor",
        )
    dims = [
        d.dim_value if d.HasField("dim_value") else 0 for d in inputs[0].type.tensor_type.shape.dim
    ]
    shape = tuple(dims[1:])
    if len(dims) not in (2, 4) or not all(d > 0 for d in shape):
        raise ConfigError(
            f"{path}: input '{inputs[0].name}' has shape {dims}",
            hint="hil takes (N, C, H, W) images or (N, features) vectors with fixed sizes",
        )
    _walk(r, inputs[0].name, shape)
    if not r.ops:
        raise ConfigError(f"{path}: the graph has no layers hil can run", hint=SUPPORTED_OPS)
    return Graph(
        ops=r.ops,
        input_name=inputs[0].name,
        input_shape=shape,
        output_name=model.graph.output[0].name,
        path=path,
        notes=r.notes,
    )


def _next_node(r: _Reader, tensor: str) -> Any | None:
    users = r.consumers.get(tensor, [])
    if len(users) > 1:
        names = ", ".join(f"'{n.name or n.op_type}' ({n.op_type})" for n in users)
        raise ConfigError(
            f"tensor '{tensor}' feeds {len(users)} nodes ({names}): the graph branches",
            hint="hil imports sequential graphs only (no branches, Add or Concat)",
        )
    if not users:
        return None
    node = users[0]
    data = [i for i in node.input if i and i not in r.consts]
    if node.op_type in _JOINS and not (node.op_type == "Add" and len(data) == 1):
        raise ConfigError(
            f"node '{node.name or node.op_type}' ({node.op_type}) joins tensors: hil imports "
            "sequential graphs only",
            hint="remove residual connections and concatenations; supported: " + SUPPORTED_OPS,
        )
    if data != [tensor]:
        raise ConfigError(
            f"node '{node.name or node.op_type}' ({node.op_type}) takes {len(data)} data inputs",
            hint="hil imports sequential graphs only (each node takes the previous one's output)",
        )
    return node


def _walk(r: _Reader, tensor: str, shape: tuple[int, ...]) -> None:
    flattened: Image | None = None  # the image a vector was flattened from
    pending_matmul: tuple[Any, np.ndarray] | None = None
    while (node := _next_node(r, tensor)) is not None:
        op = node.op_type
        image = shape if len(shape) == 3 else None
        if pending_matmul is not None:
            mm, w = pending_matmul
            pending_matmul = None
            if op == "Add":
                bias = r.const(node, 1 if node.input[0] == tensor else 0, "bias").reshape(-1)
                r.ops.append(
                    _dense(
                        r,
                        mm,
                        "MatMul+Add",
                        node.output[0],
                        w,
                        np.broadcast_to(bias, (w.shape[0],)).copy(),
                        shape[0],
                        flattened,
                    )
                )
                flattened = None
                tensor, shape = node.output[0], (w.shape[0],)
                continue
            r.ops.append(
                _dense(r, mm, "MatMul", mm.output[0], w, np.zeros(w.shape[0]), shape[0], flattened)
            )
            flattened, shape = None, (w.shape[0],)
        if op in _PASS_THROUGH:
            if r.ops:
                r.ops[-1].out_tensor = node.output[0]
        elif op == "Conv":
            if image is None:
                raise refuse(node, "input", f"has shape {shape}", "Conv on (N, C, H, W) images")
            conv = _read_conv(r, node, image)
            r.ops.append(conv)
            shape = conv.out_shape
        elif op in ("MaxPool", "AveragePool", "GlobalAveragePool"):
            if image is None:
                raise refuse(node, "input", f"has shape {shape}", "pooling on (N, C, H, W) images")
            pool = _read_pool(r, node, image)
            r.ops.append(pool)
            shape = pool.out_shape
        elif op == "BatchNormalization":
            _fold_batchnorm(r, node)
        elif op in ("Flatten", "Reshape"):
            _check_flatten(r, node, shape)
            if image is not None:
                flattened = image
            shape = (int(np.prod(shape)),)
        elif op == "Gemm":
            _need_vector(node, shape)
            dense = _read_gemm(r, node, shape[0], flattened)
            r.ops.append(dense)
            flattened, shape = None, (int(dense.weight.shape[0]),)
        elif op == "MatMul":
            _need_vector(node, shape)
            w = r.const(node, 1, "weights (input B)")
            if w.ndim != 2:
                raise refuse(node, "B", f"has shape {w.shape}", "a 2-D weight matrix")
            pending_matmul = (node, w.T)
        elif op in _ELEMENTWISE or op == "Softmax":
            kind = _ELEMENTWISE.get(op, "softmax")
            if kind == "softmax":
                _check_softmax(r, node, shape)
            r.ops.append(
                Activation(
                    name=r.layer_name(node),
                    node=node.name or node.op_type,
                    onnx_op=op,
                    out_tensor=node.output[0],
                    kind=kind,
                    size=int(np.prod(shape)),
                    image=image,
                )
            )
        else:
            raise refuse(node, "op", f"'{op}' is not supported", SUPPORTED_OPS)
        tensor = node.output[0]
    if pending_matmul is not None:
        mm, w = pending_matmul
        r.ops.append(
            _dense(r, mm, "MatMul", mm.output[0], w, np.zeros(w.shape[0]), shape[0], flattened)
        )


def _need_vector(node: Any, shape: tuple[int, ...]) -> None:
    if len(shape) != 1:
        raise refuse(node, "input", f"has shape {shape}", "a Flatten before fully-connected layers")


def _check_flatten(r: _Reader, node: Any, shape: tuple[int, ...]) -> None:
    if node.op_type == "Flatten":
        axis = int(r.attrs(node).get("axis", 1))
        if axis not in (1, -len(shape)):
            raise refuse(node, "axis", f"= {axis} is not supported", "Flatten with axis = 1")
        return
    target = r.const(node, 1, "shape (input 1)").astype(np.int64).reshape(-1).tolist()
    size = int(np.prod(shape))
    if len(target) != 2 or target[1] not in (-1, size) or target[0] not in (-1, 0, 1):
        raise refuse(
            node, "shape", f"= {target} is not a flatten", "Reshape to (N, -1), i.e. a flatten"
        )


def _check_softmax(r: _Reader, node: Any, shape: tuple[int, ...]) -> None:
    axis = int(r.attrs(node).get("axis", -1 if r.opset >= 13 else 1))
    if len(shape) != 1 or axis not in (1, -1):
        raise refuse(
            node, "axis", f"= {axis} on shape {shape} is not supported", "Softmax over a vector"
        )
