"""Lower a full-int8 TFLite graph to CMSIS-NN s8 calls (an S8Network).

The graph must be a chain: each operator reads the previous one's output.
QUANTIZE may only open it (float input) and DEQUANTIZE only close it;
RESHAPE is a no-op on NHWC data; a standalone RELU/RELU6 with its input's
scale and zero point is a clamp and joins the previous layer's activation
range. Everything else is refused by name, before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hil.errors import ConfigError
from hil.model.s8 import Quant, S8Layer, S8Network
from hil.model.tflite.graph import Graph, Operator, Tensor
from hil.reference.s8 import output_and_padding
from hil.reference.s8.requantize import activation_range, quantize_multiplier
from hil.reference.s8.softmax import softmax_parameters

SUPPORTED = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "AVERAGE_POOL_2D",
    "SOFTMAX", "RESHAPE", "RELU", "RELU6", "QUANTIZE", "DEQUANTIZE",
)  # fmt: skip
_HINT = "hil runs CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pooling, SOFTMAX and RESHAPE"


def _refuse(what: str, hint: str = _HINT) -> ConfigError:
    return ConfigError(what, hint=hint)


def _quant(t: Tensor) -> Quant:
    if t.dtype != "INT8" or len(t.scale) != 1:
        raise _refuse(
            f"tensor '{t.name}' is {t.dtype}{'' if t.scale else ' unquantised'}, not int8",
            hint="quantise the model to full int8 (TFLite converter with "
            "inference_input_type/inference_output_type tf.int8 or a representative dataset)",
        )
    return Quant(float(t.scale[0]), int(t.zero_point[0]))


def _data(t: Tensor) -> np.ndarray:
    assert t.data is not None  # _Lowering.const checked it
    return t.data


def _padding(padding: str, size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """(output size, leading pad) as TFLM's ComputePaddingHeightWidth."""
    try:
        return output_and_padding(padding, size, k, stride, dilation)
    except ValueError:
        raise _refuse(f"padding {padding}", hint="use SAME or VALID padding") from None


def _nhwc(t: Tensor, op: str) -> tuple[int, int, int, int]:
    if len(t.shape) != 4:
        raise _refuse(f"{op} input '{t.name}' has shape {list(t.shape)}, not NHWC")
    n, h, w, c = t.shape
    return n, h, w, c


class _Lowering:
    def __init__(self, graph: Graph, name: str):
        self.g = graph
        self.name = name
        self.layers: list[S8Layer] = []
        self.seen: dict[str, int] = {}

    def t(self, index: int) -> Tensor:
        return self.g.tensors[index]

    def const(self, index: int, op: Operator, what: str) -> Tensor:
        t = self.t(index)
        if t.data is None:
            raise _refuse(f"{op.op} {what} '{t.name}' is not a constant tensor")
        if what == "weights" and any(z != 0 for z in t.zero_point):
            raise _refuse(f"{op.op} weights '{t.name}' have a non-zero zero point",
                          hint="quantise weights symmetrically (TFLite does by default)")  # fmt: skip
        return t

    def layer_name(self, op: Operator) -> str:
        stem = {
            "CONV_2D": "conv", "DEPTHWISE_CONV_2D": "dwconv", "FULLY_CONNECTED": "fc",
            "MAX_POOL_2D": "maxpool", "AVERAGE_POOL_2D": "avgpool", "SOFTMAX": "softmax",
        }[op.op]  # fmt: skip
        self.seen[stem] = self.seen.get(stem, 0) + 1
        return f"{stem}{self.seen[stem]}"

    def add(self, op: Operator, function: str, params: dict, arrays: dict) -> None:
        out = self.t(op.outputs[0])
        self.layers.append(
            S8Layer(
                name=self.layer_name(op),
                function=function,
                params={k: int(v) for k, v in params.items()},
                arrays=arrays,
                output_shape=tuple(int(d) for d in out.shape),
                output_quant=_quant(out),
                tensor=out.name,
            )
        )

    def activation(self, op: Operator, out: Tensor) -> tuple[int, int]:
        q = _quant(out)
        act = op.options.get("fused_activation_function", "NONE")
        try:
            return activation_range(act, q.scale, q.zero_point)
        except ValueError:
            raise _refuse(f"{op.op} has fused activation {act}", hint="use RELU or RELU6") from None

    def per_channel(self, op: Operator, x: Tensor, w: Tensor, out: Tensor, channels: int):
        """(multiplier, shift) int32 arrays as TFLM's PopulateConvolutionQuantizationParams."""
        scales = w.scale if len(w.scale) > 1 else w.scale * channels
        if len(scales) != channels:
            raise _refuse(f"{op.op} weights '{w.name}' have {len(scales)} scales "
                          f"for {channels} channels")  # fmt: skip
        s_in, s_out = float(np.float32(x.scale[0])), float(np.float32(out.scale[0]))
        pairs = [quantize_multiplier(s_in * float(np.float32(s)) / s_out) for s in scales]
        return (
            np.array([m for m, _ in pairs], dtype=np.int32),
            np.array([s for _, s in pairs], dtype=np.int32),
        )

    def bias(self, op: Operator, channels: int) -> np.ndarray:
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            b = self.const(op.inputs[2], op, "bias")
            if b.dtype != "INT32":
                raise _refuse(f"{op.op} bias '{b.name}' is {b.dtype}, not int32",
                              hint="quantise the model to full int8 (int32 biases)")  # fmt: skip
            return _data(b).astype(np.int32).reshape(channels)
        return np.zeros(channels, dtype=np.int32)

    def conv(self, op: Operator) -> None:
        x, out = self.t(op.inputs[0]), self.t(op.outputs[0])
        w = self.const(op.inputs[1], op, "weights")
        n, h, wd, c = _nhwc(x, op.op)
        depthwise = op.op == "DEPTHWISE_CONV_2D"
        o = op.options
        if depthwise:
            _, kh, kw, oc = w.shape
            if oc % c:
                raise _refuse(f"{op.op} has {oc} output channels for {c} input channels")
        else:
            oc, kh, kw, wc = w.shape
            if wc != c:
                raise _refuse(f"{op.op} weights take {wc} channels, its input has {c}",
                              hint="grouped convolutions are not supported")  # fmt: skip
        sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        dh, dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
        oh, ph = _padding(o.get("padding", "VALID"), h, kh, sh, dh)
        ow, pw = _padding(o.get("padding", "VALID"), wd, kw, sw, dw)
        lo, hi = self.activation(op, out)
        mult, shift = self.per_channel(op, x, w, out, oc)
        params = dict(
            input_n=n, input_h=h, input_w=wd, input_c=c, filter_h=kh, filter_w=kw,
            output_h=oh, output_w=ow, output_c=oc, stride_h=sh, stride_w=sw,
            padding_h=ph, padding_w=pw, dilation_h=dh, dilation_w=dw,
            input_offset=-_quant(x).zero_point, output_offset=_quant(out).zero_point,
            activation_min=lo, activation_max=hi,
        )  # fmt: skip
        if depthwise:
            params["ch_mult"] = oc // c
        arrays = dict(
            weights=_data(w).astype(np.int8).reshape(-1),
            bias=self.bias(op, oc),
            multiplier=mult,
            shift=shift,
        )
        function = "arm_depthwise_conv_wrapper_s8" if depthwise else "arm_convolve_wrapper_s8"
        self.add(op, function, params, arrays)

    def fully_connected(self, op: Operator) -> None:
        x, out = self.t(op.inputs[0]), self.t(op.outputs[0])
        w = self.const(op.inputs[1], op, "weights")
        if len(w.shape) != 2:
            raise _refuse(f"{op.op} weights '{w.name}' have shape {list(w.shape)}")
        if op.options.get("weights_format", 0) not in (0, "DEFAULT"):
            raise _refuse(f"{op.op} uses shuffled weights", hint="convert with default weights")
        depth, accum = w.shape
        size = int(np.prod(x.shape))
        if size % accum:
            raise _refuse(f"{op.op} input '{x.name}' has {size} values, not a multiple of {accum}")
        lo, hi = self.activation(op, out)
        xq, oq = _quant(x), _quant(out)
        params = dict(
            input_n=size // accum, accum_depth=accum, output_depth=depth,
            input_offset=-xq.zero_point, filter_offset=0, output_offset=oq.zero_point,
            activation_min=lo, activation_max=hi,
        )  # fmt: skip
        arrays = dict(weights=_data(w).astype(np.int8).reshape(-1), bias=self.bias(op, depth))
        if len(w.scale) > 1:
            arrays["multiplier"], arrays["shift"] = self.per_channel(op, x, w, out, depth)
            self.add(op, "arm_fully_connected_per_channel_s8", params, arrays)
            return
        # TFLM's GetQuantizedConvolutionMultipler: the product in float, then double
        product = float(np.float32(x.scale[0]) * np.float32(w.scale[0]))
        params["multiplier"], params["shift"] = quantize_multiplier(product / oq.scale)
        self.add(op, "arm_fully_connected_s8", params, arrays)

    def pool(self, op: Operator) -> None:
        x, out = self.t(op.inputs[0]), self.t(op.outputs[0])
        n, h, w, c = _nhwc(x, op.op)
        o = op.options
        kh, kw = int(o["filter_height"]), int(o["filter_width"])
        sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        oh, ph = _padding(o.get("padding", "VALID"), h, kh, sh, 1)
        ow, pw = _padding(o.get("padding", "VALID"), w, kw, sw, 1)
        lo, hi = self.activation(op, out)
        params = dict(
            input_n=n, input_h=h, input_w=w, input_c=c, filter_h=kh, filter_w=kw,
            output_h=oh, output_w=ow, stride_h=sh, stride_w=sw, padding_h=ph, padding_w=pw,
            activation_min=lo, activation_max=hi,
        )  # fmt: skip
        function = "arm_max_pool_s8" if op.op == "MAX_POOL_2D" else "arm_avgpool_s8"
        self.add(op, function, params, {})

    def softmax(self, op: Operator) -> None:
        x, out = self.t(op.inputs[0]), self.t(op.outputs[0])
        q = _quant(out)
        if q.zero_point != -128 or abs(q.scale - 1 / 256) > 0.001 / 256:
            raise _refuse(f"SOFTMAX output '{out.name}' is not scale 1/256, zero point -128",
                          hint="convert with the TFLite converter, which fixes them")  # fmt: skip
        row = int(x.shape[-1])
        beta = float(np.float32(op.options.get("beta", 1.0)))
        mult, shift, diff_min = softmax_parameters(beta, float(np.float32(x.scale[0])))
        _quant(x)
        params = dict(num_rows=int(np.prod(x.shape)) // row, row_size=row,
                      mult=mult, shift=shift, diff_min=diff_min)  # fmt: skip
        self.add(op, "arm_softmax_s8", params, {})

    def relu(self, op: Operator) -> None:
        x, out = self.t(op.inputs[0]), self.t(op.outputs[0])
        xq, oq = _quant(x), _quant(out)
        prev = self.layers[-1] if self.layers else None
        if xq != oq or prev is None or "activation_min" not in prev.params:
            why = "has its own output scale" if xq != oq else "does not follow a conv, FC or pool"
            raise _refuse(
                f"{op.op} on '{x.name}' {why}, so it cannot be fused exactly",
                hint="fuse the activation into the layer before it when converting",
            )
        lo, hi = activation_range(op.op, oq.scale, oq.zero_point)
        params = dict(prev.params)
        params["activation_min"] = max(params["activation_min"], lo)
        params["activation_max"] = min(params["activation_max"], hi)
        if params["activation_min"] > params["activation_max"]:
            raise _refuse(f"{op.op} on '{x.name}' leaves an empty output range")
        self.layers[-1] = S8Layer(
            name=prev.name, function=prev.function, params=params, arrays=prev.arrays,
            output_shape=tuple(int(d) for d in out.shape), output_quant=oq, tensor=out.name,
        )  # fmt: skip

    def run(self) -> S8Network:
        g = self.g
        if len(g.inputs) != 1 or len(g.outputs) != 1:
            raise _refuse(f"the model has {len(g.inputs)} inputs and {len(g.outputs)} outputs",
                          hint="hil runs single-input, single-output models")  # fmt: skip
        ops = list(g.operators)
        if not ops:
            raise _refuse("the model has no operators", hint="convert the model again")
        float_input = ops[0].op == "QUANTIZE" and self.t(ops[0].inputs[0]).dtype == "FLOAT32"
        float_output = ops[-1].op == "DEQUANTIZE"
        if float_input:
            ops = ops[1:]
        if float_output:
            ops = ops[:-1]
        first = ops[0] if ops else None
        if first is None:
            raise _refuse("the model only quantises and dequantises")
        current = first.inputs[0]
        x = self.t(current)
        if x.dtype == "FLOAT32" and not float_input:
            raise _refuse(
                "the model is a float model (its first layer takes float32)",
                hint="quantise it to full int8 with the TFLite converter and a representative "
                "dataset (see docs/int8.md)",
            )
        input_quant = _quant(x)
        handlers: dict[str, Callable[[Operator], None]] = {
            "CONV_2D": self.conv, "DEPTHWISE_CONV_2D": self.conv,
            "FULLY_CONNECTED": self.fully_connected, "MAX_POOL_2D": self.pool,
            "AVERAGE_POOL_2D": self.pool, "SOFTMAX": self.softmax,
            "RELU": self.relu, "RELU6": self.relu,
        }  # fmt: skip
        for op in ops:
            if op.inputs[0] != current:
                raise _refuse(f"{op.op} does not read the previous operator's output",
                              hint="hil runs chains of layers (no branches or skips)")  # fmt: skip
            if op.op == "RESHAPE":
                a, b = self.t(op.inputs[0]), self.t(op.outputs[0])
                if int(np.prod(a.shape)) != int(np.prod(b.shape)) or _quant(a) != _quant(b):
                    raise _refuse(f"RESHAPE '{b.name}' changes the data, not only its shape")
            elif op.op in ("QUANTIZE", "DEQUANTIZE"):
                raise _refuse(f"{op.op} inside the model",
                              hint="hil takes QUANTIZE only first and DEQUANTIZE only last")  # fmt: skip
            elif op.op in handlers:
                handlers[op.op](op)
            else:
                raise _refuse(f"operator {op.op} is not supported")
            current = op.outputs[0]
        if not self.layers:
            raise _refuse("the model has no layer hil runs")
        if self.layers[-1].tensor != self.t(current).name:
            last = self.t(current)
            self.layers[-1] = S8Layer(**{**vars(self.layers[-1]), "tensor": last.name,
                                         "output_shape": tuple(int(d) for d in last.shape)})  # fmt: skip
        return S8Network(
            name=self.name,
            layers=tuple(self.layers),
            input_shape=tuple(int(d) for d in x.shape),
            input_quant=input_quant,
            float_input=float_input,
            float_output=float_output,
            description=g.description,
        )


def lower_graph(graph: Graph, name: str = "model") -> S8Network:
    """The S8Network that runs ``graph`` with CMSIS-NN s8 calls."""
    return _Lowering(graph, name).run()
