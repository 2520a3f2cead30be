"""A six-layer network small enough to read in a test: conv, relu, pool, fc,
activation, softmax on an 8x8x3 input, weights drawn from ``seed``. Shared by
tests/unit/test_codegen.py and tests/firmware/test_codegen_build.py."""

from __future__ import annotations

import numpy as np

from hil.model.layer import Layer, Network


def tiny_network(seed: int = 0, name: str = "tiny") -> Network:
    rng = np.random.default_rng(seed)

    def q7(n):
        return rng.integers(-128, 128, n, dtype=np.int8)

    return Network(
        name,
        (8, 8, 3),
        (
            Layer(
                "conv1",
                "arm_convolve_HWC_q7_RGB",
                dict(
                    dim_im_in=8,
                    ch_im_in=3,
                    ch_im_out=4,
                    dim_kernel=3,
                    padding=1,
                    stride=1,
                    bias_shift=2,
                    out_shift=9,
                    dim_im_out=8,
                ),
                q7(4 * 9 * 3),
                q7(4),
            ),
            Layer("relu1", "arm_relu_q7", {"size": 256}),
            Layer(
                "pool1",
                "arm_avepool_q7_HWC",
                dict(dim_im_in=8, ch_im_in=4, dim_kernel=2, padding=0, stride=2, dim_im_out=4),
            ),
            Layer(
                "fc1",
                "arm_fully_connected_q7_opt",
                dict(dim_vec=64, num_of_rows=10, bias_shift=1, out_shift=8),
                q7(640),
                q7(10),
            ),
            Layer("act", "arm_nn_activations_direct_q7", {"size": 10, "int_width": 2, "type": 1}),
            Layer("prob", "arm_softmax_q7", {"dim_vec": 10}),
        ),
    )
