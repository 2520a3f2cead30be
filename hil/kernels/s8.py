"""The s8 (int8) family's device kernel calls: wire ids, parameters and regions.

The s8 family has its own id space (an s8 image holds no q7 kernel, and the
HELLO frame names the family): ids 1..7 in the order of ``S8_FUNCTIONS``,
fixed here, never derived from dict order. A KERNEL_RUN's int32 parameters
are ``hil.reference.s8.FUNCTIONS[name].scalars`` in order. Regions:

- input: the int8 input, ``input_size(p)`` bytes;
- weights: the int8 weights (0 bytes for pooling and softmax);
- bias: int32 little-endian ``bias ++ multiplier ++ shift`` for the functions
  whose ``arrays`` hold them (per-channel ones; arm_fully_connected_s8 takes
  only ``bias``: its multiplier and shift are scalars), 0 bytes otherwise;
- output: ``output_size(p)`` bytes; the rest of the arena is the scratch, which
  must hold the function's ``*_get_buffer_size`` for the device's core.

scripts/gen_kernels.py writes the ids and parameter indices into
firmware/src/s8/kcall_s8_ids.h for firmware/src/s8/kcall_s8.c.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hil.reference.s8 import FUNCTIONS, S8Function

S8_FUNCTIONS = (
    "arm_convolve_wrapper_s8",
    "arm_depthwise_conv_wrapper_s8",
    "arm_fully_connected_s8",
    "arm_fully_connected_per_channel_s8",
    "arm_max_pool_s8",
    "arm_avgpool_s8",
    "arm_softmax_s8",
)
S8_FUNCTION_IDS: dict[str, int] = {name: i + 1 for i, name in enumerate(S8_FUNCTIONS)}
BIAS_ARRAYS = ("bias", "multiplier", "shift")  # the int32 arrays of the bias region, in order


def s8_function(name: str) -> S8Function:
    return FUNCTIONS[name]


def bias_arrays(name: str) -> tuple[str, ...]:
    """The int32 arrays the bias region holds for ``name``, in order."""
    return tuple(a for a in BIAS_ARRAYS if a in FUNCTIONS[name].arrays)


def region_bytes(name: str, p: Mapping[str, int]) -> dict[str, int]:
    """Bytes of the input, weights, bias and output regions for parameters ``p``."""
    f = FUNCTIONS[name]
    sizes = f.array_sizes(p)
    return {
        "input": f.input_size(p),
        "weights": sizes.get("weights", 0),
        "bias": 4 * sum(sizes[a] for a in bias_arrays(name)),
        "output": f.output_size(p),
    }


def region_data(name: str, arrays: Mapping[str, np.ndarray]) -> dict[str, bytes]:
    """The weights and bias regions' bytes from a layer's arrays."""
    weights = arrays.get("weights")
    blob = b"".join(
        np.ascontiguousarray(np.asarray(arrays[a]), dtype="<i4").tobytes()
        for a in bias_arrays(name)
    )
    return {
        "weights": b"" if weights is None else np.ascontiguousarray(weights, np.int8).tobytes(),
        "bias": blob,
    }
