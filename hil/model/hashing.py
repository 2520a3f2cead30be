"""The model hash: identifies what a network computes.

sha256 over a canonical serialisation of the input shape and, per layer in
order, the CMSIS-NN function, its scalar parameters (sorted by name) and
the exact int8 bytes of weights and bias. Names and descriptions (of the
network and of its layers) are deliberately excluded: renaming a layer
does not change a single result, so an image built before the rename still
runs the same network. The firmware carries the first 8 bytes; the host
refuses to run against an image whose hash differs.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from hil.model.layer import Network

_DOMAIN = b"hil-model-hash-v1\n"


def _array_bytes(a: np.ndarray | None) -> bytes:
    if a is None:
        return b"\xff" * 8  # distinct from any length prefix
    data = np.ascontiguousarray(a, dtype=np.int8).tobytes()
    return len(data).to_bytes(8, "little") + data


def model_hash(network: Network) -> bytes:
    """32-byte sha256 digest of the computation ``network`` describes."""
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
