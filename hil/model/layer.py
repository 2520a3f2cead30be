"""The in-memory form of a q7 network: an ordered list of CMSIS-NN calls."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hil.reference.spec import KERNEL_SPECS, KernelSpec


@dataclass(frozen=True)
class Layer:
    """One CMSIS-NN call.

    ``params`` holds the function's scalar C parameters by their C names
    (for example ``dim_im_in``, ``bias_shift``); ``weights`` and ``bias`` are
    flat int8 arrays in exactly the memory layout the C function reads
    (``pM`` of ``arm_fully_connected_q7_opt`` is interleaved). The layer's
    input is the previous layer's output.
    """

    name: str
    function: str
    params: dict[str, int]
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None

    @property
    def spec(self) -> KernelSpec:
        return KERNEL_SPECS[self.function]

    @property
    def input_size(self) -> int:
        return self.spec.input_size(self.params)

    @property
    def output_size(self) -> int:
        return self.spec.output_size(self.params)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.spec.output_shape(self.params)

    @property
    def macs(self) -> int:
        return self.spec.macs(self.params)


@dataclass(frozen=True)
class Network:
    """A named chain of layers with a fixed input shape (HWC or (n,))."""

    name: str
    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def input_size(self) -> int:
        return int(np.prod(self.input_shape))
