"""ReLU and the table-driven sigmoid/tanh (arm_nn_activations_direct_q7).

Both are elementwise, so their plans take one flat vector or a batch (N, size)
as they are.
"""

from __future__ import annotations

import numpy as np

from hil.reference._kernel import Plan, call


def _q7_table(fn) -> np.ndarray:
    """256-entry Q0.7 table indexed by the byte of a Q3.4 input (value/16 in [-8, 8)).

    CMSIS-NN's sigmoidTable_q7 and tanhTable_q7 are fn(x)·128 rounded to
    nearest and saturated to int8; the golden vectors' all-256 cases check
    every entry.
    """
    x = np.arange(256, dtype=np.uint8).view(np.int8).astype(np.float64) / 16.0
    table = np.clip(np.round(fn(x) * 128.0), -128, 127).astype(np.int8)
    table.setflags(write=False)
    return table


SIGMOID_TABLE_Q7 = _q7_table(lambda x: 1.0 / (1.0 + np.exp(-x)))
TANH_TABLE_Q7 = _q7_table(np.tanh)


def plan_relu(params: dict[str, int], weights=None, bias=None, variant: str = "dsp") -> Plan:
    return lambda x: np.maximum(x, np.int8(0))


def plan_activation(params: dict[str, int], weights=None, bias=None, variant: str = "dsp") -> Plan:
    table = SIGMOID_TABLE_Q7 if params["type"] == 0 else TANH_TABLE_Q7
    shift = 3 - params["int_width"]
    # Arithmetic shift of the int8 value, then its low byte indexes the table.
    return lambda x: table[(x >> shift).view(np.uint8)]


def arm_relu_q7(*, data, size):
    return call("arm_relu_q7", plan_relu, locals())


def arm_nn_activations_direct_q7(*, data, size, int_width, type):  # noqa: A002 (C name)
    return call("arm_nn_activations_direct_q7", plan_activation, locals())


PLANNERS = {"arm_relu_q7": plan_relu, "arm_nn_activations_direct_q7": plan_activation}
