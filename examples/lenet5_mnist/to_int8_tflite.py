"""Quantise the trained LeNet-5 (lenet5_mnist.onnx) to a full-int8 TFLite model.

A small post-training quantiser in the TFLite converter's conventions, for this
example only (the converter itself needs TensorFlow): weights symmetric int8
per output channel (scale max|w|/127, zero point 0), biases int32 at
input scale x weight scale, activations asymmetric int8 from the min and max
the calibration images reach (a ReLU's range starts at 0 and is fused into
its layer), NHWC throughout (fc1's columns are permuted from ONNX's NCHW
flatten), a float32 input with QUANTIZE and a DEQUANTIZE after the int8
softmax (scale 1/256, zero point -128). It writes the float model as TFLite
too, for `hil import --float`.

    .venv/bin/python examples/lenet5_mnist/to_int8_tflite.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from hil.model.tflite.graph import Graph, Operator, Tensor
from hil.model.tflite.writer import serialise

HERE = Path(__file__).resolve().parent


def _activations(model: onnx.ModelProto, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every node output of the float model on the calibration images."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for node in m.graph.node:
        for out in node.output:
            m.graph.output.append(onnx.ValueInfoProto(name=out))
    session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input": x}), strict=True))


def _range_quant(lo: float, hi: float) -> tuple[float, int]:
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = float(np.float32((hi - lo) / 255.0)) or 1.0
    zp = int(np.clip(round(-128 - lo / scale), -128, 127))
    return scale, zp


class _Writer:
    def __init__(self, quantised: bool):
        self.q = quantised
        self.tensors: list[Tensor] = []
        self.ops: list[Operator] = []

    def act(self, name: str, shape, quant) -> int:
        if self.q:
            scale, zp = quant
            self.tensors.append(Tensor(name, tuple(shape), "INT8", (scale,), (zp,)))
        else:
            self.tensors.append(Tensor(name, tuple(shape), "FLOAT32"))
        return len(self.tensors) - 1

    def weights(self, name: str, w: np.ndarray, b: np.ndarray, in_scale: float, dim: int):
        """Per-channel int8 weights (channel axis ``dim``) and their int32 bias."""
        if not self.q:
            self.tensors.append(Tensor(f"{name}_w", w.shape, "FLOAT32", data=w.astype(np.float32)))
            self.tensors.append(Tensor(f"{name}_b", b.shape, "FLOAT32", data=b.astype(np.float32)))
            return len(self.tensors) - 2, len(self.tensors) - 1
        axes = tuple(i for i in range(w.ndim) if i != dim)
        peak = np.abs(w).max(axis=axes)
        scale = (np.where(peak > 0, peak, 1.0) / 127.0).astype(np.float32)  # a dead channel: 1/127
        shape = [1] * w.ndim
        shape[dim] = len(scale)
        q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        b_scale = (np.float32(in_scale) * scale).astype(np.float32)
        qb = np.clip(np.round(b / b_scale), -(2**31), 2**31 - 1).astype(np.int32)
        zeros = (0,) * len(scale)
        self.tensors.append(
            Tensor(f"{name}_w", w.shape, "INT8", tuple(map(float, scale)), zeros, dim, q)
        )
        self.tensors.append(
            Tensor(f"{name}_b", b.shape, "INT32", tuple(map(float, b_scale)), zeros, 0, qb)
        )
        return len(self.tensors) - 2, len(self.tensors) - 1


def convert(onnx_path: Path, calibration: np.ndarray, quantised: bool) -> bytes:
    model = onnx.load(str(onnx_path))
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    acts = _activations(model, calibration.astype(np.float32))
    nodes = list(model.graph.node)
    out = _Writer(quantised)
    n = 1
    q_in = _range_quant(float(calibration.min()), float(calibration.max()))
    if quantised:
        out.tensors.append(Tensor("input", (n, 28, 28, 1), "FLOAT32"))
        cur = out.act("input_q", (n, 28, 28, 1), q_in)
        out.ops.append(Operator("QUANTIZE", (0,), (cur,)))
    else:
        cur = out.act("input", (n, 28, 28, 1), None)
    scale, quant_zp = q_in  # the current activation's quantisation
    shape = (n, 28, 28, 1)
    i = 0
    while i < len(nodes):
        node = nodes[i]
        fused = i + 1 < len(nodes) and nodes[i + 1].op_type == "Relu"
        tail = nodes[i + 1] if fused else node
        real = acts[tail.output[0]]
        quant = _range_quant(float(real.min()), float(real.max()))
        act = "RELU" if fused else "NONE"
        if node.op_type == "Conv":
            w = init[node.input[1]].transpose(0, 2, 3, 1)  # OIHW -> OHWI
            wi, bi = out.weights(
                node.name.strip("/").split("/")[0], w, init[node.input[2]], scale, 0
            )
            pads = [a for a in node.attribute if a.name == "pads"][0].ints
            k = w.shape[1]
            padding = "SAME" if pads[0] == (k - 1) // 2 and pads[0] > 0 else "VALID"
            h = shape[1] if padding == "SAME" else shape[1] - k + 1
            shape = (n, h, h, w.shape[0])
            nxt = out.act(tail.output[0], shape, quant)
            options = dict(padding=padding, stride_w=1, stride_h=1, fused_activation_function=act)
            out.ops.append(Operator("CONV_2D", (cur, wi, bi), (nxt,), options))
        elif node.op_type == "MaxPool":
            shape = (n, shape[1] // 2, shape[2] // 2, shape[3])
            quant = (scale, quant_zp)  # pooling keeps its input's quantisation
            nxt = out.act(node.output[0], shape, quant)
            options = dict(padding="VALID", stride_w=2, stride_h=2, filter_width=2,
                           filter_height=2, fused_activation_function="NONE")  # fmt: skip
            out.ops.append(Operator("MAX_POOL_2D", (cur,), (nxt,), options))
        elif node.op_type == "Flatten":
            hwc = shape
            shape = (n, int(np.prod(shape[1:])))
            quant = (scale, quant_zp)
            nxt = out.act(node.output[0], shape, quant)
            s = len(out.tensors)
            out.tensors.append(Tensor(f"{node.output[0]}_shape", (2,), "INT32",
                                      data=np.array(shape, np.int32)))  # fmt: skip
            out.ops.append(Operator("RESHAPE", (cur, s), (nxt,), dict(new_shape=shape)))
        elif node.op_type == "Gemm":
            w = init[node.input[1]]
            if (
                w.shape[1] == int(np.prod(hwc[1:]))
                and len(hwc) == 4
                and out.ops[-1].op == "RESHAPE"
            ):
                c, h, ww = hwc[3], hwc[1], hwc[2]  # ONNX flattened CHW; TFLite flattens HWC
                w = w.reshape(-1, c, h, ww).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
                hwc = (0,)
            wi, bi = out.weights(
                node.name.strip("/").split("/")[0], w, init[node.input[2]], scale, 0
            )
            shape = (n, w.shape[0])
            nxt = out.act(tail.output[0], shape, quant)
            options = dict(fused_activation_function=act)
            out.ops.append(Operator("FULLY_CONNECTED", (cur, wi, bi), (nxt,), options))
        elif node.op_type == "Softmax":
            nxt = out.act(f"{node.output[0]}_int8", shape, (1 / 256, -128))
            out.ops.append(Operator("SOFTMAX", (cur,), (nxt,), dict(beta=1.0)))
        else:
            raise SystemExit(f"{node.op_type} is not handled by this example's quantiser")
        if node.op_type not in ("MaxPool", "Flatten"):
            scale, quant_zp = quant if quantised else (1.0, 0)
        cur = nxt
        i += 2 if fused else 1
    if quantised:
        out.tensors.append(Tensor("probabilities", shape, "FLOAT32"))
        out.ops.append(Operator("DEQUANTIZE", (cur,), (len(out.tensors) - 1,)))
        cur = len(out.tensors) - 1
    kind = "full-int8" if quantised else "float"
    graph = Graph(tuple(out.tensors), tuple(out.ops), (0,), (cur,), f"LeNet-5 MNIST, {kind}")
    return serialise(graph)


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    cal = np.load(HERE / "calibration.npy")
    cal = cal.transpose(0, 2, 3, 1) if cal.shape[1] == 1 else cal  # ONNX's NCHW -> NHWC
    x = cal.transpose(0, 3, 1, 2)
    (out_dir / "lenet5_mnist_int8.tflite").write_bytes(convert(HERE / "lenet5_mnist.onnx", x, True))
    (out_dir / "lenet5_mnist_float.tflite").write_bytes(
        convert(HERE / "lenet5_mnist.onnx", x, False)
    )
    d = np.load(HERE.parents[1] / "hil" / "datasets" / "mnist-test.npz")
    images = (d["x"].astype(np.float32) * d["scale"]).transpose(0, 2, 3, 1)
    np.save(out_dir / "mnist_test_x.npy", images)
    np.save(out_dir / "mnist_test_y.npy", d["y"])
    print(f"wrote {out_dir}/lenet5_mnist_int8.tflite, lenet5_mnist_float.tflite, "
          "mnist_test_x.npy (NHWC float32) and mnist_test_y.npy")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
