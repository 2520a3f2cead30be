"""Power-of-two quantisation of the float ops: weights, biases, shifts, formats.

Per tensor, a format with n fractional bits stores round(x * 2**n) saturated to
int8 (halves away from zero; values never wrap). For a weighted layer with
input format fi, weight format fw, bias format fb and output format fo the
legacy kernels compute ``((bias << bias_shift) + sum(x*w) + 2**(out_shift-1)) >>
out_shift`` with ``bias_shift = fi + fw - fb`` and ``out_shift = fi + fw - fo``.
A negative (or too large) shift cannot be expressed, so the bias or output
format is moved until it can, and the move is reported. ReLU and pooling keep
their input's format; softmax and sigmoid/tanh give Q0.7.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hil.errors import ConfigError
from hil.kernels.catalogue import BIAS_SHIFT_MAX, OUT_SHIFT_MAX
from hil.model.importer.calibrate import choose_frac_bits, frac_bits_for_range
from hil.model.importer.ops import Activation, Conv, Dense, FloatOp, Pool

TABLE_FRAC_MIN, TABLE_FRAC_MAX = 4, 7  # arm_nn_activations_direct_q7: int_width 3..0


def round_half_away(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def to_q7(x: np.ndarray, frac_bits: int) -> tuple[np.ndarray, int]:
    """round(x * 2**frac_bits) saturated to int8, and how many values saturated."""
    scaled = round_half_away(np.asarray(x, dtype=np.float64) * 2.0**frac_bits)
    saturated = int(np.count_nonzero((scaled < -128) | (scaled > 127)))
    return np.clip(scaled, -128, 127).astype(np.int8), saturated


@dataclass
class QuantOp:
    """One float op with its formats and (for weighted ops) its int8 arrays in ONNX layout."""

    op: FloatOp
    fi: int
    fo: int
    fw: int | None = None
    fb: int | None = None
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    int_width: int | None = None

    @property
    def bias_shift(self) -> int:
        assert self.fw is not None and self.fb is not None
        return self.fi + self.fw - self.fb

    @property
    def out_shift(self) -> int:
        assert self.fw is not None
        return self.fi + self.fw - self.fo


@dataclass
class Quantised:
    input_frac_bits: int
    ops: list[QuantOp]
    notes: list[str] = field(default_factory=list)


def _table_bound(ops: list[FloatOp], start: int) -> bool:
    """Whether the tensor made at ``start`` feeds sigmoid/tanh (through ReLU/pooling only)."""
    for op in ops[start:]:
        if isinstance(op, Activation) and op.kind in ("sigmoid", "tanh"):
            return True
        if not (isinstance(op, Pool) or (isinstance(op, Activation) and op.kind == "relu")):
            return False
    return False


def _clamp_for_table(frac: int, where: str, notes: list[str]) -> int:
    clamped = min(max(frac, TABLE_FRAC_MIN), TABLE_FRAC_MAX)
    if clamped != frac:
        notes.append(
            f"{where}: output format Q{7 - frac}.{frac} moved to Q{7 - clamped}.{clamped}: "
            "arm_nn_activations_direct_q7 reads Q0.7 to Q3.4 (int_width 0..3)"
        )
    return clamped


def _weighted(
    op: Conv | Dense, fi: int, values: np.ndarray, method: str, table: bool, notes: list[str]
) -> QuantOp:
    fw = frac_bits_for_range(float(np.abs(op.weight).max(initial=0.0)))
    weights, _ = to_q7(op.weight, fw)
    fb = frac_bits_for_range(float(np.abs(op.bias).max(initial=0.0)))
    fo = choose_frac_bits(values, method)
    if table:
        fo = _clamp_for_table(fo, op.name, notes)
    if fi + fw - fb < 0:
        notes.append(
            f"{op.name}: bias_shift = fi + fw - fb = {fi}+{fw}-{fb} < 0; bias format moved to "
            f"{fi + fw} fractional bits (bias_shift 0, coarser bias)"
        )
        fb = fi + fw
    elif fi + fw - fb > BIAS_SHIFT_MAX:
        notes.append(
            f"{op.name}: bias_shift {fi + fw - fb} > {BIAS_SHIFT_MAX}; bias format moved to "
            f"{fi + fw - BIAS_SHIFT_MAX} fractional bits (large biases saturate)"
        )
        fb = fi + fw - BIAS_SHIFT_MAX
    if fi + fw - fo < 0:
        notes.append(
            f"{op.name}: out_shift = fi + fw - fo = {fi}+{fw}-{fo} < 0; output format moved "
            f"to {fi + fw} fractional bits (out_shift 0)"
        )
        fo = fi + fw
    elif fi + fw - fo > OUT_SHIFT_MAX:
        notes.append(
            f"{op.name}: out_shift {fi + fw - fo} > {OUT_SHIFT_MAX}; output format moved to "
            f"{fi + fw - OUT_SHIFT_MAX} fractional bits (large outputs saturate)"
        )
        fo = fi + fw - OUT_SHIFT_MAX
    bias, saturated = to_q7(op.bias, fb)
    if saturated:
        notes.append(f"{op.name}: {saturated} bias value(s) saturated at -128/127")
    return QuantOp(op=op, fi=fi, fo=fo, fw=fw, fb=fb, weights=weights, bias=bias)


def quantise(
    ops: list[FloatOp], inputs: np.ndarray, tensors: dict[str, np.ndarray], method: str
) -> Quantised:
    """Formats for every op from the calibration ``inputs`` and the float ``tensors``."""
    notes: list[str] = []
    fi = choose_frac_bits(inputs, method)
    if _table_bound(ops, 0):
        fi = _clamp_for_table(fi, "input", notes)
    input_frac = fi
    out: list[QuantOp] = []
    for i, op in enumerate(ops):
        if isinstance(op, (Conv, Dense)):
            q = _weighted(op, fi, tensors[op.out_tensor], method, _table_bound(ops, i + 1), notes)
        elif isinstance(op, Activation) and op.kind in ("sigmoid", "tanh"):
            if not TABLE_FRAC_MIN <= fi <= TABLE_FRAC_MAX:
                raise ConfigError(
                    f"node '{op.node}' ({op.onnx_op}): its input format has {fi} fractional "
                    "bits; arm_nn_activations_direct_q7 needs 4..7",
                    hint="put a Conv or Gemm before the activation so its output format can move",
                )
            q = QuantOp(op=op, fi=fi, fo=7, int_width=7 - fi)
        elif isinstance(op, Activation) and op.kind == "softmax":
            q = QuantOp(op=op, fi=fi, fo=7)
        else:  # ReLU and pooling keep their input's format
            q = QuantOp(op=op, fi=fi, fo=fi)
        out.append(q)
        fi = q.fo
    return Quantised(input_frac_bits=input_frac, ops=out, notes=notes)
