"""An s8 (int8) network: the CMSIS-NN s8 calls a TFLite int8 model lowers to.

Each layer is one CMSIS-NN s8 function with its int32 scalar parameters (the
names of ``hil.reference.s8.FUNCTIONS``) and its arrays (weights int8, bias,
multiplier and shift int32). Activations are NHWC int8 with a scale and zero
point per tensor, kept beside each layer for real-unit reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FAMILY = "s8"


@dataclass(frozen=True)
class Quant:
    """A tensor's int8 quantisation: real = scale * (q - zero_point)."""

    scale: float
    zero_point: int

    def quantise(self, x: np.ndarray) -> np.ndarray:
        """float -> int8 as TFLM's QUANTIZE: round half away, then clamp."""
        from hil.model.float_inputs import round_half_away

        q = round_half_away(np.asarray(x, dtype=np.float32) / np.float32(self.scale))
        return np.clip(q + self.zero_point, -128, 127).astype(np.int8)

    def dequantise(self, q: np.ndarray) -> np.ndarray:
        return (np.asarray(q, dtype=np.float32) - self.zero_point) * np.float32(self.scale)


@dataclass(frozen=True)
class S8Layer:
    name: str
    function: str
    params: dict[str, int]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    output_shape: tuple[int, ...] = ()  # NHWC (or [N, C]) as the model's tensor
    output_quant: Quant = Quant(1.0, 0)
    tensor: str = ""  # the model's tensor this layer's output is

    @property
    def output_size(self) -> int:
        return int(np.prod(self.output_shape))

    @property
    def input_size(self) -> int:
        from hil.reference.s8 import FUNCTIONS

        return FUNCTIONS[self.function].input_size(self.params)

    @property
    def macs(self) -> int:
        """Multiply-accumulates (window taps for pooling, elements for softmax): what
        the device's per-layer waits and watchdog scale with."""
        from hil.reference.s8 import FUNCTIONS

        return FUNCTIONS[self.function].macs(self.params)

    out_frac_bits = None  # q7's output format: an s8 tensor has a scale instead
    float_tensor = None


@dataclass(frozen=True)
class S8Network:
    name: str
    layers: tuple[S8Layer, ...]
    input_shape: tuple[int, ...]
    input_quant: Quant
    float_input: bool = False  # the model takes float32 and quantises it (QUANTIZE)
    float_output: bool = False  # the model dequantises its output (DEQUANTIZE)
    description: str = ""
    family: str = FAMILY

    quantisation = None  # q7's float-input table: an s8 network has input_quant
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def input_size(self) -> int:
        return int(np.prod(self.input_shape))
