"""One s8 layer as one CMSIS-NN (>= 4.0) call in C: its cmsis_nn_* argument structures
as designated initialisers (so the genuine library's extra or reordered fields do not
matter), its tensors as places in the caller's scratch, ctx->buf the kernels' share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hil.export.s8_plan import S8Slot
from hil.model.s8 import S8Layer

ARENA = "arena"  # the int8_t * over the caller's scratch in NAME_run_traced
KSCRATCH = "kscratch"  # the void * to ctx->buf behind the two activation buffers
_IND = "        "


@dataclass(frozen=True)
class S8Call:
    text: str  # C statements that set `status`
    output: str  # C expression of the output pointer


def _buffer(offset: int) -> str:
    return f"{ARENA} + {offset}u"


def _init(ctype: str, var: str, fields: Mapping[str, object]) -> str:
    return f"{_IND}const {ctype} {var} = {_fields(fields)};\n"


def _fields(fields: Mapping[str, object]) -> str:
    parts = []
    for key, value in fields.items():
        text = _fields(value) if isinstance(value, Mapping) else str(value)
        parts.append(f".{key} = {text}")
    return "{" + ", ".join(parts) + "}"


def _tile(p: Mapping[str, int], prefix: str) -> dict[str, int]:
    return {"w": int(p[f"{prefix}_w"]), "h": int(p[f"{prefix}_h"])}


def _act(p: Mapping[str, int]) -> dict[str, int]:
    return {"min": int(p["activation_min"]), "max": int(p["activation_max"])}


def _dims(n: int, h: int, w: int, c: int) -> dict[str, int]:
    return {"n": int(n), "h": int(h), "w": int(w), "c": int(c)}


def _per_channel(symbols: Mapping[str, str]) -> str:
    # The genuine struct holds non-const pointers; the kernels only read them.
    return _init(
        "cmsis_nn_per_channel_quant_params",
        "quant",
        {
            "multiplier": f"(int32_t *){symbols['multiplier']}",
            "shift": f"(int32_t *){symbols['shift']}",
        },
    )


def _weighted_args(src: str, dst: str, symbols: Mapping[str, str]) -> list[str]:
    """The arguments of a convolution or fully connected s8 call, in CMSIS-NN's order."""
    return ["&ctx", "&params", "&quant", "&input_dims", src, "&filter_dims",
            symbols["weights"], "&bias_dims", symbols["bias"], "&output_dims", dst]  # fmt: skip


def _call(function: str, args: list[str]) -> str:
    return f"{_IND}status = (int32_t){function}({', '.join(args)});\n"


def layer_call(
    layer: S8Layer, slot: S8Slot, symbols: Mapping[str, str], *, kernel_sums: bool
) -> S8Call:
    """The C statements of ``layer`` at ``slot``; ``symbols`` names its const arrays.
    ``kernel_sums``: fill ctx->buf with arm_vector_sum_s8 before a fully connected
    layer on Helium, as the genuine library's kernels there read it."""
    p, fn = layer.params, layer.function
    src, dst = _buffer(slot.in_offset), _buffer(slot.out_offset)
    ctx = _init("cmsis_nn_context", "ctx", {"buf": KSCRATCH, "size": slot.ctx_size})
    if fn in ("arm_convolve_wrapper_s8", "arm_depthwise_conv_wrapper_s8"):
        depthwise = fn == "arm_depthwise_conv_wrapper_s8"
        fields: dict[str, object] = {
            "input_offset": int(p["input_offset"]),
            "output_offset": int(p["output_offset"]),
        }
        if depthwise:
            fields["ch_mult"] = int(p["ch_mult"])
        fields.update(
            stride=_tile(p, "stride"),
            padding=_tile(p, "padding"),
            dilation=_tile(p, "dilation"),
            activation=_act(p),
        )
        n, oc = p["input_n"], p["output_c"]
        filt = (
            _dims(1, p["filter_h"], p["filter_w"], oc)
            if depthwise
            else _dims(oc, p["filter_h"], p["filter_w"], p["input_c"])
        )
        text = (
            ctx
            + _init(
                "cmsis_nn_dw_conv_params" if depthwise else "cmsis_nn_conv_params",
                "params",
                fields,
            )
            + _per_channel(symbols)
            + _init(
                "cmsis_nn_dims", "input_dims", _dims(n, p["input_h"], p["input_w"], p["input_c"])
            )
            + _init("cmsis_nn_dims", "filter_dims", filt)
            + _init("cmsis_nn_dims", "bias_dims", _dims(1, 1, 1, oc))
            + _init("cmsis_nn_dims", "output_dims", _dims(n, p["output_h"], p["output_w"], oc))
            + _call(fn, _weighted_args(src, dst, symbols))
        )
    elif fn in ("arm_fully_connected_s8", "arm_fully_connected_per_channel_s8"):
        n, depth, outs = p["input_n"], p["accum_depth"], p["output_depth"]
        fc = {
            "input_offset": int(p["input_offset"]),
            "filter_offset": int(p["filter_offset"]),
            "output_offset": int(p["output_offset"]),
            "activation": _act(p),
        }
        if fn == "arm_fully_connected_s8":
            quant = _init(
                "cmsis_nn_per_tensor_quant_params",
                "quant",
                {"multiplier": int(p["multiplier"]), "shift": int(p["shift"])},
            )
        else:
            quant = _per_channel(symbols)
        text = (
            ctx
            + _init("cmsis_nn_fc_params", "params", fc)
            + quant
            + _init("cmsis_nn_dims", "input_dims", _dims(n, 1, 1, depth))
            + _init("cmsis_nn_dims", "filter_dims", _dims(depth, 1, 1, outs))
            + _init("cmsis_nn_dims", "bias_dims", _dims(1, 1, 1, outs))
            + _init("cmsis_nn_dims", "output_dims", _dims(n, 1, 1, outs))
            + _fc_call(
                fn,
                _weighted_args(src, dst, symbols),
                kernel_sums,
                depth,
                outs,
                symbols,
                p,
            )  # fmt: skip
        )
    elif fn in ("arm_max_pool_s8", "arm_avgpool_s8"):
        n, c = p["input_n"], p["input_c"]
        pool = {"stride": _tile(p, "stride"), "padding": _tile(p, "padding"), "activation": _act(p)}
        text = (
            ctx
            + _init("cmsis_nn_pool_params", "params", pool)
            + _init("cmsis_nn_dims", "input_dims", _dims(n, p["input_h"], p["input_w"], c))
            + _init("cmsis_nn_dims", "filter_dims", _dims(1, p["filter_h"], p["filter_w"], 1))
            + _init("cmsis_nn_dims", "output_dims", _dims(n, p["output_h"], p["output_w"], c))
            + _call(
                fn, ["&ctx", "&params", "&input_dims", src, "&filter_dims", "&output_dims", dst]
            )
        )
    elif fn == "arm_softmax_s8":
        args = [src, *(str(int(p[k])) for k in ("num_rows", "row_size", "mult", "shift"))]
        text = (
            f"{_IND}{fn}({', '.join(args)}, {int(p['diff_min'])}, {dst});\n"
            f"{_IND}status = 0; /* arm_softmax_s8 returns nothing */\n"
        )
    else:
        raise AssertionError(f"no export for s8 function {fn}")
    return S8Call(text, dst)


def _fc_call(
    fn: str,
    args: list[str],
    kernel_sums: bool,
    depth: int,
    outs: int,
    symbols: Mapping[str, str],
    p: Mapping[str, int],
) -> str:
    call = _call(fn, args)
    if not kernel_sums:
        return call
    return (
        "#if defined(ARM_MATH_MVEI)\n"
        f"{_IND}/* Helium: the kernel reads each output's weight sum (times the input\n"
        f"{_IND} * offset, plus the bias) from ctx.buf; arm_vector_sum_s8 writes them. */\n"
        f"{_IND}status = (int32_t)arm_vector_sum_s8((int32_t *){KSCRATCH}, {depth}, {outs},\n"
        f"{_IND}    {symbols['weights']}, {int(p['input_offset'])}, {int(p['filter_offset'])}, "
        f"{symbols['bias']});\n"
        f"{_IND}if (status == 0)\n"
        "#endif\n"
        f"    {call}"
    )
