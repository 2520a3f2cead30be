"""A minimal PNG encoder (8-bit RGB, no filtering) for heatmaps embedded in the HTML page.

Images are encoded at one pixel per tensor element and scaled up by the browser
(CSS ``image-rendering: pixelated``), so a 32x32x32 layer costs a few kilobytes
instead of tens of thousands of SVG rectangles.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an ``(height, width, 3)`` uint8 array."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected a (h, w, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    # Each scanline starts with its filter type; 0 (none) keeps the encoder trivial.
    rows = np.zeros((height, 1 + width * 3), dtype=np.uint8)
    rows[:, 1:] = rgb.reshape(height, width * 3)
    return (
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + _chunk(b"IEND", b"")
    )


def png_data_uri(rgb: np.ndarray) -> str:
    """A ``data:`` URI of ``rgb`` as PNG, for an ``<img src>`` the page's CSP allows."""
    return "data:image/png;base64," + base64.b64encode(encode_png(rgb)).decode("ascii")
