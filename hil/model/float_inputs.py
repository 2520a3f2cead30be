"""Float inputs for a model that carries a [quantisation] table: q7, HWC, and saturation.

A trained model's data set is float, in the float model's own layout (NCHW for
ONNX images). The device takes q7 in HWC, so each value becomes
``clip(round_half_away(x * 2**input_frac_bits), -128, 127)`` and the channels
axis moves last. How many values had to be clipped is counted, because a data
set that saturates its inputs loses accuracy before the first layer runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hil.errors import ConfigError
from hil.model.inputs import load_inputs
from hil.model.layer import Network

_NO_QUANTISATION_HINT = (
    "quantise the inputs to int8 (q7) HWC yourself, or add a [quantisation] table to the "
    "model (`hil import` writes one) so hil can quantise float inputs"
)


def round_half_away(v: np.ndarray) -> np.ndarray:
    """Round to the nearest integer, halves away from zero (np.round goes to even)."""
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def quantise_inputs(x: np.ndarray, network: Network) -> tuple[np.ndarray, int]:
    """Float ``x`` of shape (N, *input_float_shape) or input_float_shape as int8
    (N, *network.input_shape) in HWC, and how many values saturated."""
    q = network.quantisation
    if q is None:
        raise ConfigError(
            f"model {network.name} has no [quantisation] table, so float inputs cannot be "
            "quantised",
            hint=_NO_QUANTISATION_HINT,
        )
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise ConfigError(
            f"float inputs expected, got dtype {x.dtype}",
            hint="pass float32 inputs in the float model's layout, or int8 (q7) HWC inputs",
        )
    shape = tuple(q.input_float_shape)
    if x.shape == shape:
        x = x[None]
    if x.ndim != len(shape) + 1 or x.shape[1:] != shape or x.shape[0] == 0:
        raise ConfigError(
            f"float inputs have shape {x.shape}, model {network.name} takes (N, "
            f"{', '.join(map(str, shape))}) in {q.input_layout} layout",
            hint=f"reshape the array to the float model's input shape {shape} with the batch first",
        )
    if not np.isfinite(x).all():
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise ConfigError(
            f"float inputs hold {bad} NaN or infinite values",
            hint="clean the data set (np.nan_to_num) before running it",
        )
    scaled = round_half_away(x.astype(np.float64) * 2.0**q.input_frac_bits)
    saturated = int(np.count_nonzero((scaled < -128) | (scaled > 127)))
    q7 = np.clip(scaled, -128, 127).astype(np.int8)
    hwc = _to_hwc(q7, q.input_layout)
    if hwc.shape[1:] != tuple(network.input_shape):
        raise ConfigError(
            f"model {network.name}: the [quantisation] input_float_shape {shape} "
            f"({q.input_layout}) does not give the q7 input shape {tuple(network.input_shape)}",
            hint="fix input_float_shape or input_layout in the model's [quantisation] table",
        )
    return np.ascontiguousarray(hwc), saturated


def _to_hwc(x: np.ndarray, layout: str) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W, C) for NCHW images; anything else is already in order."""
    if layout == "NCHW" and x.ndim == 4:
        return x.transpose(0, 2, 3, 1)
    if layout == "NCHW" and x.ndim == 3:  # (N, C, L): one-dimensional signals
        return x.transpose(0, 2, 1)
    return x


def stored_dtype(path: Path) -> np.dtype | None:
    """The dtype of the .npy file at ``path`` from its header alone, or None when the
    file is not a readable .npy (load_inputs then says why)."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                header = np.lib.format.read_array_header_1_0(f)
            else:
                header = np.lib.format.read_array_header_2_0(f)
    except (OSError, ValueError):
        return None
    return np.dtype(header[2])


def load_run_inputs(path: Path, network: Network) -> tuple[np.ndarray, np.ndarray | None, int]:
    """The vectors of ``path`` for a run: (int8 HWC, the float inputs or None, saturated).

    int8 files are taken as they are (load_inputs); float files are quantised with
    the model's [quantisation] table."""
    dtype = stored_dtype(path) if path.is_file() else None
    if dtype is None or not np.issubdtype(dtype, np.floating):
        return load_inputs(path, network), None, 0
    if network.quantisation is None:
        raise ConfigError(
            f"inputs in {path} are {dtype}, and model {network.name} has no [quantisation] "
            "table to quantise them with",
            hint=_NO_QUANTISATION_HINT,
        )
    x = np.load(path, allow_pickle=False)
    try:
        q7, saturated = quantise_inputs(x, network)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}", hint=exc.hint) from None
    return q7, as_batch(x, network), saturated


def as_batch(x: np.ndarray, network: Network) -> np.ndarray:
    """Float inputs with the batch axis, as float32 (what the float model takes)."""
    q = network.quantisation
    assert q is not None
    x = np.asarray(x, dtype=np.float32)
    return x[None] if x.shape == tuple(q.input_float_shape) else x
