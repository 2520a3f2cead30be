"""The in-memory form of a q7 network: an ordered list of CMSIS-NN calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

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

    ``out_frac_bits`` (the output's Q format: real value = q7 / 2**out_frac_bits)
    and ``float_tensor`` (the float model's matching tensor) are set by
    ``hil import``; they describe, and never change, what the firmware computes.
    """

    name: str
    function: str
    params: dict[str, int]
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    out_frac_bits: int | None = None
    float_tensor: str | None = None

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
class Quantisation:
    """How a float model's inputs map to this network's q7 input, and where it came from.

    A float input x becomes clip(round_half_away(x * 2**input_frac_bits), -128, 127),
    transposed from ``input_layout`` (the float model's) to HWC.
    """

    input_frac_bits: int
    input_layout: str  # "NCHW" (channels first, the float model's) or "HWC"
    input_float_shape: tuple[int, ...]  # without the batch axis, e.g. (1, 28, 28)
    calibration: str  # "minmax" | "percentile" | "kl"
    float_model: Path | None = None  # absolute once loaded; stored relative to the .toml
    float_model_sha256: str | None = None
    float_output: str | None = None  # name of the float model's final output tensor


@dataclass(frozen=True)
class Network:
    """A named chain of layers with a fixed input shape (HWC or (n,))."""

    name: str
    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    quantisation: Quantisation | None = None
    family: ClassVar[str] = "q7"  # the kernel family (an S8Network's is "s8")

    @property
    def input_size(self) -> int:
        return int(np.prod(self.input_shape))
