"""The model hash: identifies what a network computes.

sha256 over a canonical serialisation of the input shape and, per layer in
order, the CMSIS-NN function, its scalar parameters (sorted by name) and
the exact int8 bytes of weights and bias. Names and descriptions (of the
network and of its layers) are deliberately excluded: renaming a layer
does not change a single result, so an image built before the rename still
runs the same network. The firmware carries the first 8 bytes; the host
refuses to run against an image whose hash differs.

An s8 network hashes under its own domain: also the input's scale and zero
point and, per array, its dtype and bytes (int32 biases, multipliers and
shifts), so no q7 and s8 network share a hash.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from hil.model.layer import Network
from hil.model.s8 import S8Network

_DOMAIN = b"hil-model-hash-v1\n"
_S8_DOMAIN = b"hil-model-hash-s8-v1\n"


def _array_bytes(a: np.ndarray | None) -> bytes:
    if a is None:
        return b"\xff" * 8  # distinct from any length prefix
    data = np.ascontiguousarray(a, dtype=np.int8).tobytes()
    return len(data).to_bytes(8, "little") + data


def _s8_hash(network: S8Network) -> bytes:
    h = hashlib.sha256(_S8_DOMAIN)
    header = {
        "input_shape": [int(d) for d in network.input_shape],
        "input_quant": [float(network.input_quant.scale), int(network.input_quant.zero_point)],
        "layers": [
            {
                "function": layer.function,
                "params": {k: int(v) for k, v in sorted(layer.params.items())},
                "arrays": sorted(layer.arrays),
            }
            for layer in network.layers
        ],
    }
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    h.update(len(text).to_bytes(8, "little") + text)
    for layer in network.layers:
        for key in sorted(layer.arrays):
            a = np.ascontiguousarray(layer.arrays[key])
            data = a.dtype.str.encode() + a.tobytes()
            h.update(len(data).to_bytes(8, "little") + data)
    return h.digest()


def model_hash(network: Network | S8Network) -> bytes:
    """32-byte sha256 digest of the computation ``network`` describes."""
    if isinstance(network, S8Network):
        return _s8_hash(network)
    h = hashlib.sha256(_DOMAIN)
    header = {
        "input_shape": [int(d) for d in network.input_shape],
        "layers": [
            {
                "function": layer.function,
                "params": {k: int(v) for k, v in sorted(layer.params.items())},
            }
            for layer in network.layers
        ],
    }
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    h.update(len(text).to_bytes(8, "little") + text)
    for layer in network.layers:
        h.update(_array_bytes(layer.weights))
        h.update(_array_bytes(layer.bias))
    return h.digest()
