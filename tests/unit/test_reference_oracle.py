"""The vectorised kernels against deliberately simple scalar oracles.

The oracles are literal loop transcriptions of FORMAT.md (the pooling DSP
oracle follows the C pointer walk of the in-place two-pass algorithm), over
random shapes, paddings, strides and shifts.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hil.reference import call_kernel, interleave_q7_opt_weights

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ oracles


def wrap32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def sat8(v: int) -> int:
    return max(-128, min(127, v))


def requant(acc: int, out_shift: int) -> int:
    return sat8(wrap32(acc) >> out_shift)


def c_div(a: int, b: int) -> int:
    q = abs(a) // b
    return -q if a < 0 else q


def conv_oracle(
    x, h, w, cin, wt, cout, ky, kx, py, px, sy, sx, bias, bs, os_, oh, ow, depthwise=False
):
    out = []
    for oy in range(oh):
        for ox in range(ow):
            for co in range(cout):
                acc = (int(bias[co]) << bs) + ((1 << os_) >> 1)
                for i in range(ky):
                    for j in range(kx):
                        y, xx = oy * sy - py + i, ox * sx - px + j
                        if not (0 <= y < h and 0 <= xx < w):
                            continue
                        if depthwise:
                            acc += int(x[(y * w + xx) * cin + co]) * int(
                                wt[(i * kx + j) * cin + co]
                            )
                        else:
                            for c in range(cin):
                                acc += int(x[(y * w + xx) * cin + c]) * int(
                                    wt[((co * ky + i) * kx + j) * cin + c]
                                )
                out.append(requant(acc, os_))
    return out


def fc_oracle(v, m, dim_vec, rows, bs, os_, bias):
    return [
        requant(
            (int(bias[r]) << bs)
            + ((1 << os_) >> 1)
            + sum(int(m[r * dim_vec + c]) * int(v[c]) for c in range(dim_vec)),
            os_,
        )
        for r in range(rows)
    ]


def pool_dsp_oracle(im, d_in, ch, k, pad, s, d_out, is_max):
    """The C pointer walk: pass 1 in place along x, pass 2 along y into the output."""
    buf = [int(v) for v in im]
    for iy in range(d_in):
        for ix in range(d_out):
            target = (iy * d_in + ix) * ch
            start = target if ix * s - pad < 0 else (iy * d_in + ix * s - pad) * ch
            stop = (
                (iy * d_in + d_in) * ch
                if ix * s - pad + k >= d_in
                else (iy * d_in + ix * s - pad + k) * ch
            )
            if is_max:
                for c in range(ch):
                    buf[target + c] = buf[start + c]
                p = start + ch
                while p < stop:
                    for c in range(ch):
                        buf[target + c] = max(buf[target + c], buf[p + c])
                    p += ch
            else:
                acc = [buf[start + c] for c in range(ch)]
                count, p = 1, start + ch
                while p < stop:
                    for c in range(ch):
                        acc[c] += buf[p + c]
                    count, p = count + 1, p + ch
                for c in range(ch):
                    buf[target + c] = c_div(acc[c], count)
    row = d_in * ch
    out = [0] * (d_out * d_out * ch)
    for oy in range(d_out):
        target = oy * d_out * ch
        start = 0 if oy * s - pad < 0 else (oy * s - pad) * row
        stop = d_in * row if oy * s - pad + k >= d_in else (oy * s - pad + k) * row
        acc = buf[start : start + d_out * ch]
        count, p = 1, start + row
        while p < stop:
            seg = buf[p : p + d_out * ch]
            acc = (
                [max(a, b) for a, b in zip(acc, seg)]
                if is_max
                else [a + b for a, b in zip(acc, seg)]
            )
            count, p = count + 1, p + row
        out[target : target + d_out * ch] = acc if is_max else [c_div(a, count) for a in acc]
    return out


def pool_plain_oracle(im, d_in, ch, k, pad, s, d_out, is_max):
    out = []
    for oy in range(d_out):
        for ox in range(d_out):
            for c in range(ch):
                vals = [
                    int(im[(y * d_in + x) * ch + c])
                    for y in range(oy * s - pad, oy * s - pad + k)
                    for x in range(ox * s - pad, ox * s - pad + k)
                    if 0 <= y < d_in and 0 <= x < d_in
                ]
                out.append(max(vals) if is_max else c_div(sum(vals), len(vals)))
    return out


def softmax_oracle(v):
    m = max(int(a) for a in v)
    base = m - 8
    total = sum(2 ** min(max(int(a) - base, 0), 7) for a in v)
    b = 2**20 // total
    return [sat8(b >> min(max(13 + base - int(a), 0), 31)) for a in v]


def activation_oracle(data, int_width, kind):
    f = (lambda t: 1 / (1 + math.exp(-t))) if kind == 0 else math.tanh
    out = []
    for a in data:
        b = (int(a) >> (3 - int_width)) & 0xFF
        q34 = (b - 256 if b > 127 else b) / 16
        out.append(sat8(math.floor(f(q34) * 128 + 0.5)))
    return out


# ------------------------------------------------------------------ strategies


def int8s(draw, n):
    kind = draw(st.sampled_from(["uniform", "extreme", "small"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "uniform":
        return rng.integers(-128, 128, n).astype(np.int8)
    if kind == "extreme":
        return rng.choice(np.array([-128, 127, -127, 0], np.int8), n)
    return rng.integers(-4, 5, n).astype(np.int8)


@st.composite
def axis(draw, fast=False):
    k = draw(st.integers(1, 4))
    pad = draw(st.integers(0, k - 1))
    stride = draw(st.integers(1, 3))
    dim = draw(st.integers(max(1, k - 2 * pad), 7))
    formula = (dim + 2 * pad - k) // stride + 1
    out = formula if fast else draw(st.integers(1, formula + 1))
    return dim, k, pad, stride, out


@st.composite
def conv_case(draw, fn):
    fast = "fast" in fn
    if "1x1" in fn:
        ax = [(d, 1, 0, 1, d) for d in (draw(st.integers(1, 6)), draw(st.integers(1, 6)))]
    elif "nonsquare" in fn:
        ax = [draw(axis(fast)), draw(axis(fast))]
    else:
        ax = [draw(axis(fast))] * 2
    if fast and any(pad > out for _, _, pad, _, out in ax):
        ax = [(d, k, 0, s, (d - k) // s + 1) if d >= k else (d, 1, 0, 1, d) for d, k, _, s, _ in ax]
    (wx, kx, px, sx, ox), (hy, ky, py, sy, oy) = ax
    depthwise = "depthwise" in fn
    cin = 3 if "RGB" in fn else 4 * draw(st.integers(1, 2)) if fast else draw(st.integers(1, 5))
    cout = cin if depthwise else 2 * draw(st.integers(1, 3)) if fast else draw(st.integers(1, 4))
    bs, os_ = draw(st.integers(0, 24)), draw(st.integers(0, 30))
    x = int8s(draw, hy * wx * cin)
    wt = int8s(draw, (1 if depthwise else cout) * ky * kx * cin)
    bias = int8s(draw, cout)
    if "nonsquare" in fn:
        kwargs = dict(
            dim_im_in_x=wx,
            dim_im_in_y=hy,
            dim_kernel_x=kx,
            dim_kernel_y=ky,
            padding_x=px,
            padding_y=py,
            stride_x=sx,
            stride_y=sy,
            dim_im_out_x=ox,
            dim_im_out_y=oy,
        )
    else:
        kwargs = dict(dim_im_in=wx, dim_kernel=kx, padding=px, stride=sx, dim_im_out=ox)
    kwargs.update(
        Im_in=x, ch_im_in=cin, wt=wt, ch_im_out=cout, bias=bias, bias_shift=bs, out_shift=os_
    )
    expected = conv_oracle(
        x, hy, wx, cin, wt, cout, ky, kx, py, px, sy, sx, bias, bs, os_, oy, ox, depthwise
    )
    return kwargs, expected


def _check_conv(fn, case):
    kwargs, expected = case
    got = call_kernel(fn, "dsp", **kwargs)
    assert got.tolist() == expected


@SETTINGS
@given(st.data())
def test_convolutions_match_oracle(data):
    fn = data.draw(
        st.sampled_from(
            [
                "arm_convolve_HWC_q7_basic",
                "arm_convolve_HWC_q7_fast",
                "arm_convolve_HWC_q7_RGB",
                "arm_convolve_HWC_q7_basic_nonsquare",
                "arm_convolve_HWC_q7_fast_nonsquare",
                "arm_convolve_1x1_HWC_q7_fast_nonsquare",
            ]
        )
    )
    _check_conv(fn, data.draw(conv_case(fn)))


@SETTINGS
@given(st.data())
def test_depthwise_matches_oracle(data):
    fn = data.draw(
        st.sampled_from(
            ["arm_depthwise_separable_conv_HWC_q7", "arm_depthwise_separable_conv_HWC_q7_nonsquare"]
        )
    )
    _check_conv(fn, data.draw(conv_case(fn)))


@SETTINGS
@given(st.data())
def test_fully_connected_match_oracle(data):
    dim_vec, rows = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 11))
    bs, os_ = data.draw(st.integers(0, 24)), data.draw(st.integers(0, 30))
    v = int8s(data.draw, dim_vec)
    m = int8s(data.draw, dim_vec * rows)
    bias = int8s(data.draw, rows)
    expected = fc_oracle(v, m, dim_vec, rows, bs, os_, bias)
    common = dict(pV=v, dim_vec=dim_vec, num_of_rows=rows, bias_shift=bs, out_shift=os_, bias=bias)
    assert call_kernel("arm_fully_connected_q7", pM=m, **common).tolist() == expected
    opt = interleave_q7_opt_weights(m, dim_vec, rows)
    assert call_kernel("arm_fully_connected_q7_opt", pM=opt, **common).tolist() == expected


@st.composite
def pool_case(draw):
    k = draw(st.integers(1, 5))
    pad = draw(st.integers(0, k - 1))
    # Half the cases have padding >= stride, where the DSP path's in-place
    # pass reads columns it has already overwritten.
    s = draw(st.integers(1, max(1, pad))) if draw(st.booleans()) else draw(st.integers(1, 3))
    d_in = draw(st.integers(1, 10))
    valid = [o for o in range(1, d_in + 1) if (o - 1) * s - pad < d_in]
    d_out = valid[-1] if draw(st.booleans()) else draw(st.sampled_from(valid))
    ch = draw(st.integers(1, 4))
    return int8s(draw, d_in * d_in * ch), d_in, ch, k, pad, s, d_out


@settings(SETTINGS, max_examples=120)
@given(pool_case(), st.sampled_from(["dsp", "plain"]), st.booleans())
def test_pooling_matches_oracle(case, variant, is_max):
    im, d_in, ch, k, pad, s, d_out = case
    oracle = pool_dsp_oracle if variant == "dsp" else pool_plain_oracle
    expected = oracle(im, d_in, ch, k, pad, s, d_out, is_max)
    fn = "arm_maxpool_q7_HWC" if is_max else "arm_avepool_q7_HWC"
    got = call_kernel(
        fn,
        variant,
        Im_in=im,
        dim_im_in=d_in,
        ch_im_in=ch,
        dim_kernel=k,
        padding=pad,
        stride=s,
        dim_im_out=d_out,
    )
    assert got.tolist() == expected


@SETTINGS
@given(st.data())
def test_softmax_matches_oracle(data):
    v = int8s(data.draw, data.draw(st.integers(1, 300)))
    assert call_kernel("arm_softmax_q7", vec_in=v, dim_vec=v.size).tolist() == softmax_oracle(v)


@SETTINGS
@given(st.data(), st.integers(0, 3), st.sampled_from([0, 1]))
def test_activations_match_oracle(data, int_width, kind):
    x = int8s(data.draw, data.draw(st.integers(1, 300)))
    got = call_kernel(
        "arm_nn_activations_direct_q7", data=x, size=x.size, int_width=int_width, type=kind
    )
    assert got.tolist() == activation_oracle(x, int_width, kind)
    relu = call_kernel("arm_relu_q7", data=x, size=x.size)
    assert relu.tolist() == [max(0, int(a)) for a in x]


def test_accumulator_wraps_like_the_silicon():
    # 127<<24 + 2^29 (rounding) + 4·127·127 exceeds int32: the SIMD path wraps
    # modulo 2^32, so the result is negative, not saturated to 127.
    v = np.full(4, 127, np.int8)
    got = call_kernel(
        "arm_fully_connected_q7",
        pV=v,
        pM=v.copy(),
        dim_vec=4,
        num_of_rows=1,
        bias_shift=24,
        out_shift=30,
        bias=np.array([127], np.int8),
    )
    assert got.tolist() == fc_oracle(v, v, 4, 1, 24, 30, [127]) == [-2]
