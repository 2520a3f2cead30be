"""Inputs for an s8 network: int8 as they are, float32 quantised with the input
tensor's scale and zero point (as the model's QUANTIZE does), batch first."""

from __future__ import annotations

import numpy as np

from hil.errors import ConfigError
from hil.model.s8 import S8Network


def sample_shape(network: S8Network) -> tuple[int, ...]:
    """One input's shape: the model's input shape without its batch axis of 1."""
    shape = tuple(network.input_shape)
    return shape[1:] if len(shape) > 1 and shape[0] == 1 else shape


def s8_inputs(
    x: np.ndarray, network: S8Network, option: str = "--inputs"
) -> tuple[np.ndarray, int]:
    """(int8 (N, *sample shape), how many float values saturated)."""
    x = np.asarray(x)
    shape = sample_shape(network)
    if x.shape == shape:
        x = x[None]
    if x.ndim == len(shape) + 2 and x.shape[1] == 1:  # (N, 1, H, W, C): each with its batch
        x = x[:, 0]
    if x.shape[1:] != shape or len(x) == 0:
        raise ConfigError(
            f"{option} has shape {x.shape}; model {network.name} takes (N, "
            f"{', '.join(map(str, shape))}) (NHWC, batch first)",
            hint=f"reshape it to (N, {', '.join(map(str, shape))})",
        )
    if x.dtype == np.int8:
        return x, 0
    if not np.issubdtype(x.dtype, np.floating):
        raise ConfigError(
            f"{option} is {x.dtype}; an s8 model takes int8 or float32 inputs",
            hint="give int8 (already quantised) or float32 (hil quantises it) inputs",
        )
    if not np.isfinite(x).all():
        raise ConfigError(
            f"{option} holds NaN or infinite values", hint="clean the data (np.nan_to_num)"
        )
    q = network.input_quant
    real = np.asarray(x, np.float32) / np.float32(q.scale) + q.zero_point
    saturated = int(np.count_nonzero((real < -128.5) | (real > 127.5)))
    return q.quantise(x), saturated
