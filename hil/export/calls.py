"""One layer as one CMSIS-NN call in C: arguments in the catalogue's C order, the
buffers as places in the caller's scratch, the kernels' scratch where each shape takes it."""

from __future__ import annotations

from dataclasses import dataclass

from hil.firmware.plan import LayerPlacement
from hil.kernels.catalogue import ACTIVATION_TYPES
from hil.model.layer import Layer

ARENA = "arena"  # the q7_t * over the caller's scratch in NAME_run
KSCRATCH = "kscratch"  # the q15_t * kernel scratch behind the two buffers


@dataclass(frozen=True)
class Call:
    text: str  # the C expression
    returns_status: bool
    output: str  # C expression of the output pointer


def _buffer(offset: int) -> str:
    return f"{ARENA} + {offset}u"


def layer_call(layer: Layer, slot: LayerPlacement, weights: str | None, bias: str | None) -> Call:
    """The C call of ``layer`` with its tensors at ``slot``; ``weights``/``bias`` are symbols."""
    spec = layer.spec
    pointers = {
        spec.input: _buffer(slot.in_offset),
        spec.output: _buffer(slot.out_offset),
    }
    if spec.weights:
        assert weights is not None
        pointers[spec.weights] = weights
    if spec.bias:
        assert bias is not None
        pointers[spec.bias] = bias
    args = []
    for name in spec.args:
        if name in pointers:
            args.append(pointers[name])
        elif name == spec.enum_param:
            args.append(ACTIVATION_TYPES[int(layer.params[name])])
        else:
            args.append(str(int(layer.params[name])))
    # Where each argument order takes the kernels' scratch (as firmware/src/kcall.c).
    if spec.call in ("SQUARE_CONV", "NONSQUARE_CONV"):
        args += [KSCRATCH, "NULL"]  # bufferA, bufferB (unused by every q7 convolution)
    elif spec.call == "FC":
        args.append(KSCRATCH)  # vec_buffer
    elif spec.call == "POOL":
        args.insert(len(args) - 1, f"(q7_t *){KSCRATCH}")  # bufferA, before Im_out
    return Call(
        f"{layer.function}({', '.join(args)})",
        spec.returns_status,
        _buffer(slot.out_offset),
    )
