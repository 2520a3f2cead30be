"""arm_softmax_q7: the library's base-2 integer approximation.

Per vector: base = max - 8; sum = Σ 1 << clamp(x - base, 0, 7); then
out = min((2^20 / sum) >> clamp(13 + base - x, 0, 31), 127). Each row of a
batch is one vector, so max and sum reduce along the last axis only.
"""

from __future__ import annotations

import numpy as np

from hil.reference._kernel import Plan, batched, call


def plan_softmax(params: dict[str, int], weights=None, bias=None, variant: str = "dsp") -> Plan:
    def run(x: np.ndarray) -> np.ndarray:
        v = x.astype(np.int64)
        base = v.max(axis=1, keepdims=True) - 8
        total = (np.int64(1) << np.clip(v - base, 0, 7)).sum(axis=1, keepdims=True)
        b = (1 << 20) // total  # total >= 128: the maximum itself contributes 1 << 7
        shifts = np.clip(13 + base - v, 0, 31)
        return np.minimum(b >> shifts, 127).astype(np.int8)

    return batched(run)


def arm_softmax_q7(*, vec_in, dim_vec):
    return call("arm_softmax_q7", plan_softmax, locals())


PLANNERS = {"arm_softmax_q7": plan_softmax}
