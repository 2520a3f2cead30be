"""Seeded random whole int8 CNNs as TFLite models (float in, float out).

Weights are random; every activation's scale and zero point is chosen from
the values the calibration input really produces there, so no layer
saturates wholesale and each layer's output carries information.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hil.model.s8 import Quant
from hil.model.tflite.graph import Graph, Operator, Tensor
from hil.model.tflite.lower import lower_graph
from hil.model.tflite.writer import serialise
from hil.reference.s8 import run_layer
from hil.reference.s8.convolution import conv_accumulators, depthwise_accumulators
from hil.reference.s8.fully_connected import fc_accumulators


class _Builder:
    def __init__(self, rng: np.random.Generator, x: np.ndarray):
        self.rng = rng
        self.tensors: list[Tensor] = []
        self.ops: list[Operator] = []
        lo, hi = float(x.min()), float(x.max())
        s = float(np.float32((hi - lo) / 255))
        zp = int(np.clip(round(-128 - lo / s), -128, 127))
        self.add_tensor("input_float", x.shape, "FLOAT32")
        self.current = self.add_tensor("input", x.shape, scale=s, zp=zp)
        self.ops.append(Operator("QUANTIZE", (0,), (1,)))
        self.q = Quant(s, zp)
        self.data = self.q.quantise(x)

    def add_tensor(self, name, shape, dtype="INT8", scale=None, zp=0, **kw) -> int:
        q = dict(scale=(float(scale),), zero_point=(int(zp),)) if scale is not None else {}
        self.tensors.append(Tensor(name, tuple(int(d) for d in shape), dtype, **q, **kw))
        return len(self.tensors) - 1

    def _graph(self, extra: list[Tensor], op: Operator) -> Graph:
        tensors = tuple(self.tensors) + tuple(extra)
        return Graph(tensors, (op,), (op.inputs[0],), (op.outputs[0],))

    def _step(self, name: str, op_name: str, options, weights, w_scales, dim, accumulate):
        """Append a weighted op, choosing its output quantisation from real data."""
        oc = weights.shape[dim]
        s_b = [float(np.float32(self.q.scale * s)) for s in w_scales]
        bias = self.rng.integers(-(1 << 12), 1 << 12, size=oc).astype(np.int32)
        w_i = len(self.tensors)
        consts = [
            Tensor(f"{name}_w", weights.shape, "INT8", tuple(w_scales), (0,) * oc, dim, weights),
            Tensor(f"{name}_b", (oc,), "INT32", tuple(s_b), (0,) * oc, 0, bias),
        ]
        draft_out = Tensor(f"{name}_out", (1,), "INT8", (1.0,), (0,))
        out_i = w_i + 2
        op = Operator(op_name, (self.current, w_i, w_i + 1), (out_i,), options)
        draft = lower_graph(self._graph(consts + [draft_out], op)).layers[0]
        acc = accumulate(self.data, draft.params, draft.arrays) + draft.arrays["bias"]
        real = acc * np.asarray(w_scales, dtype=np.float64) * self.q.scale
        if options.get("fused_activation_function") in ("RELU", "RELU6"):
            real = np.clip(real, 0, 6 if options["fused_activation_function"] == "RELU6" else None)
        lo, hi = min(float(real.min()), 0.0), max(float(real.max()), 1e-3)
        s = float(np.float32((hi - lo) / 255))
        zp = int(np.clip(round(-128 - lo / s), -128, 127))
        shape = real.shape
        self.tensors += consts
        self.current = self.add_tensor(f"{name}_out", shape, scale=s, zp=zp)
        assert self.current == out_i
        self.ops.append(op)
        self._advance(op)

    def _advance(self, op: Operator) -> None:
        g = Graph(tuple(self.tensors), (op,), (op.inputs[0],), (op.outputs[0],))
        layer = lower_graph(g).layers[0]
        t = self.tensors[self.current]
        self.q = Quant(t.scale[0], t.zero_point[0])
        self.data = run_layer(layer, self.data).reshape(t.shape)

    def conv(self, name, oc, k, stride=1, padding="SAME", act="RELU", depthwise=False):
        c = self.data.shape[-1]
        if depthwise:
            w = self.rng.integers(-127, 128, size=(1, k, k, c * oc)).astype(np.int8)
            dim, n_out = 3, c * oc
        else:
            w = self.rng.integers(-127, 128, size=(oc, k, k, c)).astype(np.int8)
            dim, n_out = 0, oc
        scales = [float(np.float32(2.0 ** self.rng.uniform(-9, -6))) for _ in range(n_out)]
        options = dict(padding=padding, stride_w=stride, stride_h=stride,
                       fused_activation_function=act)  # fmt: skip
        if depthwise:
            options["depth_multiplier"] = oc
        op = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
        acc = depthwise_accumulators if depthwise else conv_accumulators
        self._step(name, op, options, w, scales, dim, acc)

    def fc(self, name, depth, act="NONE", per_channel=False, w_exp=(-10, -7)):
        accum = int(np.prod(self.data.shape[1:]))
        w = self.rng.integers(-127, 128, size=(depth, accum)).astype(np.int8)
        n = depth if per_channel else 1
        scales = [float(np.float32(2.0 ** self.rng.uniform(*w_exp))) for _ in range(n)]
        options = dict(fused_activation_function=act)

        def accumulate(x, p, arrays):
            return fc_accumulators(x, p, arrays) - arrays["bias"]

        self._step(name, "FULLY_CONNECTED", options, w,
                   scales if per_channel else scales * depth, 0, accumulate)  # fmt: skip
        if not per_channel:  # one scale on the weights: per-tensor
            w_t = self.tensors[-3]
            self.tensors[-3] = Tensor(w_t.name, w_t.shape, w_t.dtype, w_t.scale[:1], (0,),
                                      0, w_t.data)  # fmt: skip

    def pool(self, name, op_name, k, stride, padding="VALID"):
        n, h, w, c = self.data.shape
        out = [(d + stride - 1) // stride if padding == "SAME" else (d - k + stride) // stride
               for d in (h, w)]  # fmt: skip
        i = self.add_tensor(f"{name}_out", (n, *out, c), scale=self.q.scale, zp=self.q.zero_point)
        options = dict(padding=padding, stride_w=stride, stride_h=stride, filter_width=k,
                       filter_height=k, fused_activation_function="NONE")  # fmt: skip
        op = Operator(op_name, (self.current,), (i,), options)
        self.ops.append(op)
        self.current = i
        self._advance(op)

    def relu(self, name):
        i = self.add_tensor(f"{name}_out", self.data.shape, scale=self.q.scale,
                            zp=self.q.zero_point)  # fmt: skip
        self.ops.append(Operator("RELU", (self.current,), (i,)))
        self.data = np.maximum(self.data, self.q.zero_point).astype(np.int8)
        self.current = i

    def reshape(self, name):
        n = self.data.shape[0]
        shape = (n, int(np.prod(self.data.shape[1:])))
        i = self.add_tensor(f"{name}_out", shape, scale=self.q.scale, zp=self.q.zero_point)
        s = self.add_tensor(f"{name}_shape", (2,), "INT32", data=np.array(shape, np.int32))
        self.ops.append(Operator("RESHAPE", (self.current, s), (i,), dict(new_shape=shape)))
        self.current = i
        self.data = self.data.reshape(shape)

    def softmax(self, name):
        i = self.add_tensor(f"{name}_out", self.data.shape, scale=1 / 256, zp=-128)
        op = Operator("SOFTMAX", (self.current,), (i,), dict(beta=1.0))
        self.ops.append(op)
        self.current = i
        self._advance(op)

    def finish(self, description: str) -> Graph:
        i = self.add_tensor("output", self.data.shape, "FLOAT32")
        self.ops.append(Operator("DEQUANTIZE", (self.current,), (i,)))
        return Graph(tuple(self.tensors), tuple(self.ops), (0,), (i,), description)


def small_cnn(seed: int = 0, shape=(1, 16, 16, 3), classes: int = 10) -> tuple[Graph, np.ndarray]:
    """A CNN with every supported operator, and a float batch of inputs for it."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, size=(8, *shape[1:])).astype(np.float32)
    b = _Builder(rng, x[:1])
    b.conv("conv1", 8, 3, act="RELU")
    b.conv("dw1", 2, 3, depthwise=True, act="RELU6")
    b.pool("pool1", "MAX_POOL_2D", 2, 2)
    b.conv("conv2", 12, 3, stride=2, padding="VALID", act="NONE")
    b.relu("relu2")
    b.pool("pool2", "AVERAGE_POOL_2D", 2, 1, padding="SAME")
    b.reshape("flatten")
    b.fc("fc1", 24, act="RELU", per_channel=True)
    b.fc("fc2", classes, w_exp=(-15, -13))  # logits a few units apart
    b.softmax("softmax")
    return b.finish(f"hil test CNN, seed {seed}"), x


def write_small_cnn(path: Path, seed: int = 0) -> np.ndarray:
    """Write small_cnn(seed) to ``path``; return its float inputs."""
    graph, x = small_cnn(seed)
    Path(path).write_bytes(serialise(graph))
    return x


def float_twin(graph: Graph) -> Graph:
    """The float model ``graph`` would have been converted from: every constant
    dequantised, activations float32, no QUANTIZE or DEQUANTIZE."""
    tensors = []
    for t in graph.tensors:
        if t.data is not None and t.scale:
            scale = np.asarray(t.scale, np.float32)
            zp = np.asarray(t.zero_point, np.float32)
            shape = [1] * t.data.ndim
            if len(scale) > 1:
                shape[t.quantized_dimension] = len(scale)
            data = (t.data.astype(np.float32) - zp.reshape(shape)) * scale.reshape(shape)
            tensors.append(Tensor(t.name, t.shape, "FLOAT32", data=data.astype(np.float32)))
        elif t.dtype in ("INT8", "FLOAT32"):
            tensors.append(Tensor(t.name, t.shape, "FLOAT32"))
        else:
            tensors.append(t)
    ops = graph.operators[1:-1]  # QUANTIZE ... DEQUANTIZE
    first, last = ops[0], ops[-1]
    ops = (
        Operator(first.op, (0, *first.inputs[1:]), first.outputs, first.options),
        *ops[1:-1],
        Operator(last.op, last.inputs, (graph.outputs[0],), last.options),
    )
    return Graph(tuple(tensors), ops, graph.inputs, graph.outputs, graph.description + " (float)")
