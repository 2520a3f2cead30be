/*
 * hil_nn_s8_internal.h: arithmetic shared by the s8 kernels. Not part of
 * the API; arm_nnfunctions.h documents the semantics.
 *
 * Every int32 operation that TFLite Micro lets wrap is written on uint32_t
 * here, so the results are defined C and equal on every path.
 */
#ifndef HIL_NN_S8_INTERNAL_H
#define HIL_NN_S8_INTERNAL_H

#include <stdint.h>

#include "arm_nnfunctions.h"

#if defined(ARM_MATH_MVEI)
#include <arm_mve.h>
#elif defined(ARM_MATH_DSP)
#include <arm_acle.h>
#endif

static inline int32_t hil_s8_wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t hil_s8_wrap_mul(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a * (uint32_t)b);
}

/* gemmlowp's SaturatingRoundingDoublingHighMul: round(a * b / 2^31), halves
 * away from zero; the one overflowing case saturates. gemmlowp truncates
 * (ab + nudge) / 2^31 with a nudge of 2^30 or 1 - 2^30 by ab's sign; for
 * negative ab that truncation equals floor((ab + 2^30) / 2^31), so one
 * arithmetic shift serves both signs (it is also what VQRDMULH computes). */
static inline int32_t hil_s8_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
    {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    return (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
}

/* gemmlowp's RoundingDivideByPOT: x / 2^e, halves away from zero. */
static inline int32_t hil_s8_rdbypot(int32_t x, int32_t e)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << e) - 1u);
    const int32_t rem = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (rem > threshold ? 1 : 0);
}

/* gemmlowp's SaturatingRoundingMultiplyByPOT for a left shift 0 <= e < 31. */
static inline int32_t hil_s8_sat_left_shift(int32_t x, int32_t e)
{
    const int32_t threshold = (int32_t)(((uint32_t)1 << (31 - e)) - 1u);
    if (x > threshold)
    {
        return INT32_MAX;
    }
    if (x < -threshold)
    {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << e);
}

/* TFLite Micro's MultiplyByQuantizedMultiplier: x * m * 2^(shift - 31),
 * shift in [-31, 30]. */
static inline int32_t hil_s8_requantize(int32_t x, int32_t m, int32_t shift)
{
#if defined(CMSIS_NN_USE_SINGLE_ROUNDING)
    const int32_t total = 31 - shift;
    const int64_t round = (int64_t)1 << (total - 1);
    return (int32_t)(((int64_t)x * (int64_t)m + round) >> total);
#else
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return hil_s8_rdbypot(hil_s8_srdhm(hil_s8_wrap_mul(x, (int32_t)((uint32_t)1 << left)), m), right);
#endif
}

/* memcpy and memset for the short runs of im2col: on Helium a predicated
 * vector each 16 bytes, cheaper than a library call for a few bytes. */
static inline void hil_s8_copy(int8_t *dst, const int8_t *src, int32_t n)
{
#if defined(ARM_MATH_MVEI)
    for (int32_t i = 0; i < n; i += 16)
    {
        const mve_pred16_t p = vctp8q((uint32_t)(n - i));
        vstrbq_p_s8(dst + i, vldrbq_z_s8(src + i, p), p);
    }
#else
    if (n > 0)
    {
        memcpy(dst, src, (size_t)n);
    }
#endif
}

static inline void hil_s8_fill(int8_t *dst, int8_t value, int32_t n)
{
#if defined(ARM_MATH_MVEI)
    const int8x16_t v = vdupq_n_s8(value);
    for (int32_t i = 0; i < n; i += 16)
    {
        vstrbq_p_s8(dst + i, v, vctp8q((uint32_t)(n - i)));
    }
#else
    if (n > 0)
    {
        memset(dst, value, (size_t)n);
    }
#endif
}

/* Output positions a convolution computes together: each filter row is
 * read once for all of them. */
#define HIL_S8_COLS 4

/* Requantise an accumulator, add the output zero point and clamp. */
static inline int8_t hil_s8_output(int32_t acc, int32_t m, int32_t shift, int32_t offset, int32_t lo, int32_t hi)
{
    int32_t v = hil_s8_requantize(acc, m, shift) + offset;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return (int8_t)v;
}

/*
 * hil_s8_output for the accumulators of HIL_S8_COLS output positions that
 * share one channel: out[j * stride] for j < count.
 */
static inline void hil_s8_output_cols(const int32_t acc[HIL_S8_COLS],
                                      int32_t count,
                                      int32_t m,
                                      int32_t shift,
                                      int32_t offset,
                                      int32_t lo,
                                      int32_t hi,
                                      int8_t *out,
                                      int32_t stride)
{
#if defined(ARM_MATH_MVEI) && !defined(CMSIS_NN_USE_SINGLE_ROUNDING)
    /* Double rounding in four lanes: a wrapping left shift; VQRDMULH is
     * hil_s8_srdhm, saturation included; VRSHL rounds halves up, so a
     * negative value first steps down by one (saturating, which leaves
     * INT32_MIN exact) to round its halves away from zero. */
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    int32x4_t v = vshlq_s32(vldrwq_s32(acc), vdupq_n_s32(left));
    v = vqrdmulhq_n_s32(v, m);
    if (right > 0)
    {
        v = vqaddq_s32(v, vshrq_n_s32(v, 31));
        v = vrshlq_s32(v, vdupq_n_s32(-right));
    }
    v = vaddq_n_s32(v, offset);
    v = vmaxq_s32(v, vdupq_n_s32(lo));
    v = vminq_s32(v, vdupq_n_s32(hi));
    const uint32x4_t offsets = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)stride);
    vstrbq_scatter_offset_p_s32(out, offsets, v, vctp32q((uint32_t)count));
#else
    for (int32_t j = 0; j < count; j++)
    {
        out[(size_t)j * stride] = hil_s8_output(acc[j], m, shift, offset, lo, hi);
    }
#endif
}

/*
 * sum(a[i] * b[i]) over n values, and in *sum_b the sum of b, both wrapping
 * mod 2^32. An accumulation of (a + offset) * b then equals
 * dot + offset * sum_b in the same modular arithmetic, so each path may
 * order its additions as it likes and still give TFLM's int32 bytes.
 */
static inline int32_t hil_s8_dot(const int8_t *a, const int8_t *b, int32_t n, int32_t *sum_b)
{
    int32_t dot = 0;
    int32_t sb = 0;
    int32_t i = 0;
#if defined(ARM_MATH_MVEI)
    for (; i < n; i += 16)
    {
        const mve_pred16_t p = vctp8q((uint32_t)(n - i));
        const int8x16_t va = vldrbq_z_s8(a + i, p);
        const int8x16_t vb = vldrbq_z_s8(b + i, p);
        dot = vmladavaq_p_s8(dot, va, vb, p);
        sb = vaddvaq_p_s8(sb, vb, p);
    }
#elif defined(ARM_MATH_DSP)
    const int32_t ones = 0x00010001;
    for (; i + 4 <= n; i += 4)
    {
        uint32_t wa;
        uint32_t wb;
        memcpy(&wa, a + i, 4);
        memcpy(&wb, b + i, 4);
        const int32_t a02 = __sxtb16((int32_t)wa);
        const int32_t a13 = __sxtb16((int32_t)(wa >> 8));
        const int32_t b02 = __sxtb16((int32_t)wb);
        const int32_t b13 = __sxtb16((int32_t)(wb >> 8));
        dot = __smlad(a02, b02, dot);
        dot = __smlad(a13, b13, dot);
        sb = __smlad(b02, ones, sb);
        sb = __smlad(b13, ones, sb);
    }
#endif
    for (; i < n; i++)
    {
        dot = hil_s8_wrap_add(dot, (int32_t)a[i] * (int32_t)b[i]);
        sb = hil_s8_wrap_add(sb, b[i]);
    }
    *sum_b = sb;
    return dot;
}

#if defined(ARM_MATH_DSP) && !defined(ARM_MATH_MVEI)
/* acc + sum(x[k] * w[k]) over four int8 values, w already unpacked by
 * __sxtb16 into its even (w02) and odd (w13) bytes. */
static inline int32_t hil_s8_smlad4(const int8_t *x, int32_t w02, int32_t w13, int32_t acc)
{
    uint32_t wx;
    memcpy(&wx, x, 4);
    acc = __smlad(__sxtb16((int32_t)wx), w02, acc);
    return __smlad(__sxtb16((int32_t)(wx >> 8)), w13, acc);
}
#endif

/*
 * One filter row against HIL_S8_COLS columns of n values:
 * dot[j] = sum(w[k] * col[j][k]) and *sum_w = sum(w[k]), wrapping mod 2^32
 * as in hil_s8_dot. Loading the row once for every column is the point.
 */
static inline void hil_s8_dot_cols(const int8_t *w,
                                   const int8_t *const col[HIL_S8_COLS],
                                   int32_t n,
                                   int32_t dot[HIL_S8_COLS],
                                   int32_t *sum_w)
{
    int32_t d0 = 0;
    int32_t d1 = 0;
    int32_t d2 = 0;
    int32_t d3 = 0;
    int32_t sw = 0;
    int32_t k = 0;
#if defined(ARM_MATH_MVEI)
    /* Whole vectors unpredicated, then one predicated tail: a predicate in
     * the main loop costs more than the loads it guards. */
    const int8_t *c0 = col[0];
    const int8_t *c1 = col[1];
    const int8_t *c2 = col[2];
    const int8_t *c3 = col[3];
    for (; k + 16 <= n; k += 16, w += 16, c0 += 16, c1 += 16, c2 += 16, c3 += 16)
    {
        const int8x16_t vw = vldrbq_s8(w);
        d0 = vmladavaq_s8(d0, vldrbq_s8(c0), vw);
        d1 = vmladavaq_s8(d1, vldrbq_s8(c1), vw);
        d2 = vmladavaq_s8(d2, vldrbq_s8(c2), vw);
        d3 = vmladavaq_s8(d3, vldrbq_s8(c3), vw);
        sw = vaddvaq_s8(sw, vw);
    }
    if (k < n)
    {
        /* Zeroing loads make the tail lanes add nothing. */
        const mve_pred16_t p = vctp8q((uint32_t)(n - k));
        const int8x16_t vw = vldrbq_z_s8(w, p);
        d0 = vmladavaq_s8(d0, vldrbq_z_s8(c0, p), vw);
        d1 = vmladavaq_s8(d1, vldrbq_z_s8(c1, p), vw);
        d2 = vmladavaq_s8(d2, vldrbq_z_s8(c2, p), vw);
        d3 = vmladavaq_s8(d3, vldrbq_z_s8(c3, p), vw);
        sw = vaddvaq_s8(sw, vw);
        k = n;
    }
#elif defined(ARM_MATH_DSP)
    const int32_t ones = 0x00010001;
    for (; k + 4 <= n; k += 4)
    {
        uint32_t ww;
        memcpy(&ww, w + k, 4);
        const int32_t w02 = __sxtb16((int32_t)ww);
        const int32_t w13 = __sxtb16((int32_t)(ww >> 8));
        sw = __smlad(w02, ones, sw);
        sw = __smlad(w13, ones, sw);
        d0 = hil_s8_smlad4(col[0] + k, w02, w13, d0);
        d1 = hil_s8_smlad4(col[1] + k, w02, w13, d1);
        d2 = hil_s8_smlad4(col[2] + k, w02, w13, d2);
        d3 = hil_s8_smlad4(col[3] + k, w02, w13, d3);
    }
#endif
    for (; k < n; k++)
    {
        const int32_t wk = w[k];
        sw = hil_s8_wrap_add(sw, wk);
        d0 = hil_s8_wrap_add(d0, col[0][k] * wk);
        d1 = hil_s8_wrap_add(d1, col[1][k] * wk);
        d2 = hil_s8_wrap_add(d2, col[2][k] * wk);
        d3 = hil_s8_wrap_add(d3, col[3][k] * wk);
    }
    dot[0] = d0;
    dot[1] = d1;
    dot[2] = d2;
    dot[3] = d3;
    *sum_w = sw;
}

/* The fully connected layer of both entry points; mult and shift hold one
 * value (step 0) or one per output (step 1). In hil_s8_fully_connected.c. */
arm_cmsis_nn_status hil_s8_fully_connected(const cmsis_nn_fc_params *fc,
                                           const int32_t *mult,
                                           const int32_t *shift,
                                           int32_t step,
                                           const cmsis_nn_dims *input_dims,
                                           const int8_t *input,
                                           const cmsis_nn_dims *filter_dims,
                                           const int8_t *weights,
                                           const int32_t *bias,
                                           const cmsis_nn_dims *output_dims,
                                           int8_t *output);

/* One axis of a window: output position o covers [o*stride - pad, +kernel),
 * clipped to [0, dim). */
static inline void hil_s8_span(int32_t o, int32_t stride, int32_t pad, int32_t kernel, int32_t dim, int32_t *start,
                               int32_t *stop)
{
    const int32_t first = o * stride - pad;
    const int32_t end = first + kernel;
    *start = first < 0 ? 0 : first;
    *stop = end > dim ? dim : end;
}

/* Buffer-size rules of the genuine library's internal kernels, shared by
 * the *_get_buffer_size functions. */
#define HIL_S8_MVE_DW_CH_BLOCK 124

static inline int32_t hil_s8_max(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static inline int hil_s8_is_1x1(const cmsis_nn_conv_params *p, const cmsis_nn_dims *in, const cmsis_nn_dims *f)
{
    return p->padding.w == 0 && p->padding.h == 0 && f->w == 1 && f->h == 1 && p->dilation.w == 1 &&
        p->dilation.h == 1 && in->c == f->c;
}

static inline int hil_s8_is_1x1_unit_stride(const cmsis_nn_conv_params *p)
{
    return p->stride.w == 1 && p->stride.h == 1;
}

static inline int hil_s8_is_1_x_n(const cmsis_nn_conv_params *p, const cmsis_nn_dims *in, const cmsis_nn_dims *f)
{
    return in->h == 1 && p->dilation.w == 1 && f->h == 1 && (p->stride.w * in->c) % 4 == 0 && in->c == f->c;
}

/* im2col of two columns widened to int16, rows padded to a multiple of 4. */
static inline int32_t hil_s8_im2col_size(const cmsis_nn_dims *in, const cmsis_nn_dims *f)
{
    const int32_t cols = f->w * f->h * in->c;
    const int32_t padded = (cols + 3) / 4 * 4;
    return 2 * padded * (int32_t)sizeof(int16_t);
}

/* Four int8 im2col columns rounded up to whole 16-byte vectors. */
static inline int32_t hil_s8_im2col_size_mve(const cmsis_nn_dims *in, const cmsis_nn_dims *f)
{
    const int32_t vectors = (in->c * f->w * f->h + 15) / 16;
    return 4 * vectors * 16;
}

/* The 1x1 unit-stride kernel wants a buffer only when built by Arm Compiler 6. */
static inline int32_t hil_s8_1x1_fast_size_dsp(const cmsis_nn_dims *in)
{
#if defined(__ARMCC_VERSION) && (__ARMCC_VERSION >= 6010050)
    return 2 * in->c * (int32_t)sizeof(int16_t);
#else
    (void)in;
    return 0;
#endif
}

/* Output channels above which Helium runs a one-input-channel depthwise
 * convolution as a regular one (compiler dependent, as in the genuine library). */
#if defined(__ARMCC_VERSION) && (__ARMCC_VERSION >= 6010050)
#define HIL_S8_MVE_DW_AS_CONV_ABOVE 8
#else
#define HIL_S8_MVE_DW_AS_CONV_ABOVE 1
#endif

/* The 1xN kernel's scratch on Helium: one padded row at either edge. */
static inline int32_t hil_s8_1_x_n_size_mve(const cmsis_nn_conv_params *p,
                                            const cmsis_nn_dims *in,
                                            const cmsis_nn_dims *f,
                                            const cmsis_nn_dims *out)
{
    const int32_t stride = p->stride.w;
    const int32_t pad = p->padding.w;
    const int32_t asym = ((out->w - 1) * stride + f->w - in->w) % 2;
    const int32_t right_n = pad + asym != 0 ? hil_s8_max(1, (pad + asym + stride - 1) / stride) : 0;
    const int32_t left_n = pad != 0 ? hil_s8_max(1, (pad + stride - 1) / stride) : 0;
    const int32_t middle_n = hil_s8_max(out->w - (right_n + left_n), 0);
    if (right_n + middle_n + left_n != out->w)
    {
        return hil_s8_im2col_size_mve(in, f);
    }
    const int32_t left_pad = pad * in->c;
    const int32_t right_pad = asym ? right_n * in->c : left_pad;
    const int32_t left_elems = f->w * in->c;
    const int32_t right_elems = left_elems - in->c;
    return hil_s8_max(left_elems + left_pad, right_elems + right_pad);
}

/* A depthwise convolution qualifies for the genuine library's buffered
 * kernels only with C_IN == C_OUT, one batch and no dilation. */
static inline int hil_s8_dw_is_opt(const cmsis_nn_dw_conv_params *p, const cmsis_nn_dims *in, const cmsis_nn_dims *out)
{
    return in->c == out->c && in->n == 1 && p->dilation.w == 1 && p->dilation.h == 1;
}

/* ... and among those, a 3x3 with padding <= 1 needs none off Helium. */
static inline int hil_s8_dw_is_3x3(const cmsis_nn_dw_conv_params *p, const cmsis_nn_dims *f)
{
    return f->w == 3 && f->h == 3 && p->padding.h <= 1 && p->padding.w <= 1;
}

static inline int32_t hil_s8_dw_opt_size_dsp(const cmsis_nn_dims *in, const cmsis_nn_dims *f)
{
    return in->c * f->w * f->h * (int32_t)sizeof(int16_t);
}

static inline int32_t hil_s8_dw_opt_size_mve(const cmsis_nn_dims *f)
{
    return 4 * HIL_S8_MVE_DW_CH_BLOCK * f->w * f->h;
}

/* Helium runs a one-input-channel depthwise convolution as a regular one:
 * that convolution's scratch plus a transposed copy of the filter. */
static inline int32_t hil_s8_dw_one_in_ch_size_mve(const cmsis_nn_dw_conv_params *p,
                                                   const cmsis_nn_dims *in,
                                                   const cmsis_nn_dims *f,
                                                   const cmsis_nn_dims *out)
{
    const cmsis_nn_dims conv_filter = {f->c, f->h, f->w, f->n};
    const cmsis_nn_conv_params conv = {
        p->input_offset, p->output_offset, p->stride, p->padding, p->dilation, p->activation};
    return arm_convolve_wrapper_s8_get_buffer_size_mve(&conv, in, &conv_filter, out) + f->c * f->h * f->w * f->n;
}

#endif /* HIL_NN_S8_INTERNAL_H */
