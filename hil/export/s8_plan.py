"""Where an s8 network's tensors live in the caller's scratch.

The q7 plan's idea (hil.firmware.plan) for S8Network: two ping-pong
activation buffers, A at offset 0 holding the input, every layer reading one
and writing the other (no s8 kernel is promised to work in place), each as
large as the largest tensor it holds, rounded up to 4 bytes. Behind them, the
kernels' ``ctx->buf``: as large as the hungriest layer's bound over every core
and compiler (hil.export.s8_buffers), so one export runs everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from hil.errors import ConfigError
from hil.export.s8_buffers import buffer_bound
from hil.model.s8 import S8Network
from hil.reference.s8 import FUNCTIONS

ALIGN = 4


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(frozen=True)
class S8Slot:
    """One layer's input and output (byte offsets in scratch, sizes) and its ctx bytes."""

    name: str
    in_offset: int
    out_offset: int
    in_size: int
    out_size: int
    ctx_size: int


@dataclass(frozen=True)
class S8Plan:
    buffer_offsets: tuple[int, int]
    buffer_sizes: tuple[int, int]
    layers: tuple[S8Slot, ...]
    kernel_offset: int
    kernel_size: int  # bytes of ctx->buf every layer shares

    @property
    def scratch_size(self) -> int:
        return self.kernel_offset + self.kernel_size

    @property
    def output_offset(self) -> int:
        return self.layers[-1].out_offset


def plan_s8(network: S8Network) -> S8Plan:
    """Place every tensor of ``network`` in two ping-pong buffers and size ctx->buf."""
    if not network.layers:
        raise ConfigError(
            f"model '{network.name}' has no layers", hint="export a model with layers"
        )
    held = [network.input_size, 0]
    current = 0
    prev = network.input_size
    placed = []
    for layer in network.layers:
        f = FUNCTIONS[layer.function]
        need = f.input_size(layer.params)
        if need != prev:
            raise ConfigError(
                f"layer '{layer.name}' of model '{network.name}' takes {need} values but gets "
                f"{prev}",
                hint="the layers must chain: each reads the previous one's whole output",
            )
        out = f.output_size(layer.params)
        target = 1 - current
        held[target] = max(held[target], out)
        placed.append((layer, current, target, need, out))
        current, prev = target, out
    sizes = (_align(held[0]), _align(held[1]))
    offsets = (0, sizes[0])
    slots = tuple(
        S8Slot(
            layer.name,
            offsets[src],
            offsets[dst],
            n_in,
            n_out,
            buffer_bound(layer.function, layer.params),
        )  # fmt: skip
        for layer, src, dst, n_in, n_out in placed
    )
    # At least one word, so ctx->buf always points into the caller's scratch.
    kernel = _align(max([ALIGN, *(s.ctx_size for s in slots)]))
    return S8Plan(offsets, sizes, slots, sum(sizes), kernel)
