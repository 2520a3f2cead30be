"""Max and average pooling in the library's two forms.

``dsp``: the separable, in-place two-pass algorithm of the SIMD build
(FORMAT.md). Pass 1 runs along x over the input buffer itself, so with
``padding >= stride`` a window can read columns that earlier outputs have
already overwritten; that case runs column by column, as the silicon does.
With ``padding <= stride - 1`` every window reads only columns at or right
of its own output column, which no earlier step has written, so pass 1 is
then computed for all columns at once. Pass 2 reads the pass-1 buffer and
writes elsewhere, so it is always vectorised.

``plain``: textbook pooling over the clipped window (the plain-C build).

Images are (N, rows, columns, channels) batches; the axes are counted from
the end so one image and a batch share the code, and no step mixes images.
"""

from __future__ import annotations

import numpy as np

from hil.reference._core import trunc_div
from hil.reference._kernel import Plan, batched, call, check_variant

ROWS, COLS = -3, -2  # axes of an (N, rows, columns, channels) batch


def _dsp_window(o: int, dim_in: int, kernel: int, padding: int, stride: int) -> tuple[int, int]:
    """[start, stop) of the DSP path's window: a negative start becomes o itself."""
    start = o * stride - padding
    stop = min(start + kernel, dim_in)
    if start < 0:
        start = o
    return start, max(stop, start + 1)  # the first column is always taken


def _windows(dim_out: int, dim_in: int, kernel: int, padding: int, stride: int):
    return [_dsp_window(o, dim_in, kernel, padding, stride) for o in range(dim_out)]


def _clipped(dim_out: int, dim_in: int, kernel: int, padding: int, stride: int):
    """Textbook windows clipped to the image: [max(0, o*s - pad), min(o*s - pad + k, d_in))."""
    return [
        (max(0, o * stride - padding), min(o * stride - padding + kernel, dim_in))
        for o in range(dim_out)
    ]


def _tap_plan(spans: list[tuple[int, int]], kernel: int):
    """Per tap j: source index and validity mask for every output position."""
    starts = np.array([s for s, _ in spans])
    counts = np.array([e - s for s, e in spans])
    taps = [(np.minimum(starts + j, starts + counts - 1), j < counts) for j in range(kernel)]
    return taps, counts


def _reduce(buf: np.ndarray, axis: int, taps, counts, is_max: bool) -> np.ndarray:
    """Max or truncating mean along ``axis`` over each output's tap list."""
    shape = [1] * buf.ndim
    shape[axis] = len(counts)
    acc = None
    for idx, valid in taps:
        vals = np.take(buf, idx, axis=axis)
        if acc is None:
            acc = vals.astype(np.int32)
            continue
        mask = valid.reshape(shape)
        if is_max:
            acc = np.where(mask, np.maximum(acc, vals), acc)
        else:
            acc = acc + np.where(mask, vals, 0)
    assert acc is not None  # a pooling window has at least one tap
    return acc if is_max else trunc_div(acc, counts.reshape(shape))


def _pass1_sequential(buf: np.ndarray, cols, is_max: bool) -> None:
    """In-place pass 1 exactly as the C loop runs it (buf is N x rows x columns x C).

    The loop is over output columns, never over images: every image of the
    batch takes the same step at once.
    """
    for ox, (start, stop) in enumerate(cols):
        if is_max:
            buf[..., ox, :] = buf[..., start, :]
            for c in range(start + 1, stop):
                np.maximum(buf[..., ox, :], buf[..., c, :], out=buf[..., ox, :])
        else:
            # Averages sum into a scratch buffer and write column ox last.
            total = buf[..., start:stop, :].sum(axis=COLS)
            buf[..., ox, :] = trunc_div(total, stop - start)


def _plan_dsp(p: dict[str, int], is_max: bool) -> Plan:
    d_in, ch, k, pad, s, d_out = (
        p[n] for n in ("dim_im_in", "ch_im_in", "dim_kernel", "padding", "stride", "dim_im_out")
    )
    spans = _windows(d_out, d_in, k, pad, s)
    col_taps, col_counts = _tap_plan(spans, k)
    # Pass 2 clamps a negative start row to 0 (unlike pass 1's columns).
    row_taps, row_counts = _tap_plan(_clipped(d_out, d_in, k, pad, s), k)
    hazard_free = pad <= s - 1

    def run(x: np.ndarray) -> np.ndarray:
        img = x.reshape(-1, d_in, d_in, ch)
        if hazard_free:
            pass1 = _reduce(img, COLS, col_taps, col_counts, is_max)
        else:
            buf = img.astype(np.int32)
            _pass1_sequential(buf, spans, is_max)
            pass1 = buf[..., :d_out, :]
        out = _reduce(pass1, ROWS, row_taps, row_counts, is_max)
        return out.astype(np.int8).reshape(x.shape[0], -1)

    return batched(run)


def _plan_plain(p: dict[str, int], is_max: bool) -> Plan:
    d_in, ch, k, pad, s, d_out = (
        p[n] for n in ("dim_im_in", "ch_im_in", "dim_kernel", "padding", "stride", "dim_im_out")
    )
    taps, counts = _tap_plan(_clipped(d_out, d_in, k, pad, s), k)
    area = counts[:, None] * counts[None, :]

    def run(x: np.ndarray) -> np.ndarray:
        img = x.reshape(-1, d_in, d_in, ch)
        if is_max:
            out = _reduce(_reduce(img, COLS, taps, counts, True), ROWS, taps, counts, True)
        else:
            sums = _sum(_sum(img.astype(np.int32), COLS, taps), ROWS, taps)
            out = trunc_div(sums, area[:, :, None])
        return out.astype(np.int8).reshape(x.shape[0], -1)

    return batched(run)


def _sum(buf: np.ndarray, axis: int, taps) -> np.ndarray:
    """Window sums along ``axis`` (no division: plain averaging divides once)."""
    shape = [1] * buf.ndim
    total: np.ndarray | int = 0
    for idx, valid in taps:
        shape[axis] = len(idx)
        total = total + np.where(valid.reshape(shape), np.take(buf, idx, axis=axis), 0)
    assert isinstance(total, np.ndarray)  # a pooling window has at least one tap
    return total


def plan_maxpool(params: dict[str, int], weights=None, bias=None, variant: str = "dsp") -> Plan:
    check_variant(variant)
    return _plan_dsp(params, True) if variant == "dsp" else _plan_plain(params, True)


def plan_avepool(params: dict[str, int], weights=None, bias=None, variant: str = "dsp") -> Plan:
    check_variant(variant)
    return _plan_dsp(params, False) if variant == "dsp" else _plan_plain(params, False)


def arm_maxpool_q7_HWC(
    *, Im_in, dim_im_in, ch_im_in, dim_kernel, padding, stride, dim_im_out, variant: str = "dsp"
):
    kwargs = dict(locals())
    del kwargs["variant"]
    return call("arm_maxpool_q7_HWC", plan_maxpool, kwargs, variant)


def arm_avepool_q7_HWC(
    *, Im_in, dim_im_in, ch_im_in, dim_kernel, padding, stride, dim_im_out, variant: str = "dsp"
):
    kwargs = dict(locals())
    del kwargs["variant"]
    return call("arm_avepool_q7_HWC", plan_avepool, kwargs, variant)


PLANNERS = {"arm_maxpool_q7_HWC": plan_maxpool, "arm_avepool_q7_HWC": plan_avepool}
