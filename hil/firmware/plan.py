"""Where each layer's tensors live in the firmware's activation arena.

Two ping-pong buffers: A at offset 0 holds the network input; every layer
that does not work in place (``KernelSpec.in_place``) reads one buffer and
writes the other, in-place layers keep theirs. Each buffer is as large as
the largest tensor it ever holds, rounded up to 4 bytes so both start
word-aligned (the kernels' SIMD paths read words). The kernels' shared q15
scratch (bufferA / vec_buffer) is sized by the hungriest layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from hil.errors import ConfigError
from hil.model.layer import Layer, Network

ALIGN = 4

# arm_convolve_HWC_q7_RGB reads each pixel as a word, so one byte past its
# input: keep that byte inside the arena.
_INPUT_OVERREAD = {"arm_convolve_HWC_q7_RGB": 1}


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def scratch_q15(layer: Layer) -> int:
    """q15 elements of scratch the function needs (0 when it takes none)."""
    p, fn = layer.params, layer.function
    if fn == "arm_convolve_HWC_q7_RGB":
        return 2 * 3 * p["dim_kernel"] ** 2
    if fn in ("arm_convolve_HWC_q7_basic", "arm_convolve_HWC_q7_fast"):
        return 2 * p["ch_im_in"] * p["dim_kernel"] ** 2
    if fn in ("arm_convolve_HWC_q7_basic_nonsquare", "arm_convolve_HWC_q7_fast_nonsquare"):
        return 2 * p["ch_im_in"] * p["dim_kernel_x"] * p["dim_kernel_y"]
    if fn == "arm_convolve_1x1_HWC_q7_fast_nonsquare":
        return 2 * p["ch_im_in"]
    # Depthwise uses bufferA as an int8 column of ch*kernel-area bytes.
    if fn == "arm_depthwise_separable_conv_HWC_q7":
        return (p["ch_im_in"] * p["dim_kernel"] ** 2 + 1) // 2
    if fn == "arm_depthwise_separable_conv_HWC_q7_nonsquare":
        return (p["ch_im_in"] * p["dim_kernel_x"] * p["dim_kernel_y"] + 1) // 2
    # Average pooling sums a row of 2*dim_im_out*ch bytes (int16) in bufferA;
    # max pooling leaves it unused.
    if fn == "arm_avepool_q7_HWC":
        return p["dim_im_out"] * p["ch_im_in"]
    if fn in ("arm_fully_connected_q7", "arm_fully_connected_q7_opt"):
        return p["dim_vec"]
    return 0


@dataclass(frozen=True)
class LayerPlacement:
    """One layer's input and output in the arena (byte offsets, elements)."""

    name: str
    in_offset: int
    out_offset: int
    in_size: int
    out_size: int
    scratch: int  # q15 elements this layer needs

    @property
    def in_place(self) -> bool:
        return self.in_offset == self.out_offset


@dataclass(frozen=True)
class MemoryPlan:
    """The arena layout of a network: two buffers and every layer's slots."""

    input_offset: int
    input_size: int
    buffer_offsets: tuple[int, int]
    buffer_sizes: tuple[int, int]
    layers: tuple[LayerPlacement, ...]
    scratch_size: int  # q15 elements: max over layers

    @property
    def arena_size(self) -> int:
        return sum(self.buffer_sizes)

    @property
    def output_offset(self) -> int:
        return self.layers[-1].out_offset if self.layers else self.input_offset


def plan_memory(network: Network) -> MemoryPlan:
    """Place every tensor of ``network`` in two ping-pong buffers."""
    if not network.layers:
        raise ConfigError(
            f"model '{network.name}' has no layers", hint="add at least one [[layers]] entry"
        )
    held = [network.input_size, 0]  # largest tensor each buffer holds
    current = 0
    prev_size = network.input_size
    slots = []
    for layer in network.layers:
        if layer.input_size != prev_size:
            raise ConfigError(
                f"layer '{layer.name}' of model '{network.name}' takes "
                f"{layer.input_size} elements but gets {prev_size}",
                hint="fix the layer's size parameters so it chains with the one before",
            )
        target = current if layer.spec.in_place else 1 - current
        need_in = layer.input_size + _INPUT_OVERREAD.get(layer.function, 0)
        held[current] = max(held[current], need_in)
        held[target] = max(held[target], layer.output_size)
        slots.append((layer, current, target))
        current = target
        prev_size = layer.output_size
    sizes = (_align(held[0]), _align(held[1]))
    offsets = (0, sizes[0])
    placements = tuple(
        LayerPlacement(
            name=layer.name,
            in_offset=offsets[src],
            out_offset=offsets[dst],
            in_size=layer.input_size,
            out_size=layer.output_size,
            scratch=scratch_q15(layer),
        )
        for layer, src, dst in slots
    )
    return MemoryPlan(
        input_offset=offsets[0],
        input_size=network.input_size,
        buffer_offsets=offsets,
        buffer_sizes=sizes,
        layers=placements,
        scratch_size=max(p.scratch for p in placements),
    )
