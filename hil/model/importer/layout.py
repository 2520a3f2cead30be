"""From ONNX's layouts (NCHW tensors, OIHW weights) to what the C functions read.

The kernels work on HWC images. A convolution's weights become OHWI
(``[out][ky][kx][in]``), a depthwise convolution's ``[ky][kx][ch]``; the first
dense layer after a flatten sees its input in HWC order, so its columns move
from CHW to HWC order; arm_fully_connected_q7_opt reads its rows interleaved.
"""

from __future__ import annotations

import numpy as np

from hil.model.importer.ops import Image
from hil.reference import interleave_q7_opt_weights


def conv_weights(w: np.ndarray) -> np.ndarray:
    """(O, I, kh, kw) -> flat OHWI."""
    return np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(-1)


def depthwise_weights(w: np.ndarray) -> np.ndarray:
    """(C, 1, kh, kw) -> flat [kh][kw][C]."""
    return np.ascontiguousarray(w[:, 0].transpose(1, 2, 0)).reshape(-1)


def dense_columns_hwc(w: np.ndarray, image: Image) -> np.ndarray:
    """[out][C*H*W] columns in CHW order -> [out][H*W*C] in HWC order."""
    c, h, width = image
    return np.ascontiguousarray(w.reshape(w.shape[0], c, h, width).transpose(0, 2, 3, 1)).reshape(
        w.shape[0], -1
    )


def dense_weights(w: np.ndarray, interleaved: bool) -> np.ndarray:
    """[rows][dim_vec] -> flat row-major, or arm_fully_connected_q7_opt's interleaved order."""
    rows, dim_vec = w.shape
    flat = np.ascontiguousarray(w).reshape(-1)
    return interleave_q7_opt_weights(flat, dim_vec, rows) if interleaved else flat


def tensor_hwc(x: np.ndarray) -> np.ndarray:
    """A batch of float tensors as (N, size) rows in the kernels' order (HWC for images)."""
    x = np.asarray(x)
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x).reshape(x.shape[0], -1)
