/*
 * hil_nn_internal.h: helpers shared by the kernels of firmware/nn.
 * Not part of the API; arm_nnfunctions.h documents the semantics.
 */
#ifndef HIL_NN_INTERNAL_H
#define HIL_NN_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "arm_nnfunctions.h"

#if defined(__ARM_FEATURE_SIMD32) && (__ARM_FEATURE_SIMD32 == 1)
#include <arm_acle.h>
#define HIL_NN_SIMD32 1
#endif

/*
 * One axis of a pooling window: output position o covers input positions
 * [first, first + kernel) with first = o*stride - padding, clipped here to
 * [*start, *stop) inside [0, dim). Returns first (unclipped), which the DSP
 * path's first pass needs for its "start at o" rule.
 */
static inline int32_t hil_nn_pool_span(int32_t o, uint16_t stride, uint16_t padding,
                                       uint16_t kernel, uint16_t dim, int32_t *start,
                                       int32_t *stop)
{
    const int32_t first = o * (int32_t)stride - (int32_t)padding;
    const int32_t end = first + (int32_t)kernel;
    *start = first < 0 ? 0 : first;
    *stop = end > (int32_t)dim ? (int32_t)dim : end;
    return first;
}

/* Shifts of 32 or more are undefined in C; the header promises 31. */
static inline uint32_t hil_nn_shift(uint16_t shift)
{
    return shift > 31u ? 31u : (uint32_t)shift;
}

/* Start value of an accumulator: (bias << bias_shift) plus the rounding
 * constant (1 << out_shift) >> 1. Written with unsigned shifts so negative
 * biases and out_shift 31 give what gcc computes for the genuine
 * expressions, without undefined behaviour. */
static inline int32_t hil_nn_acc_init(q7_t bias, uint16_t bias_shift, uint16_t out_shift)
{
    int32_t acc = (int32_t)((uint32_t)(int32_t)bias << hil_nn_shift(bias_shift));
#ifndef HIL_TEST_WRONG_ROUNDING
    acc += (int32_t)((uint32_t)1u << hil_nn_shift(out_shift)) >> 1;
#else
    (void)out_shift; /* test-only: truncate instead of rounding half up */
#endif
    return acc;
}

static inline q7_t hil_nn_sat_q7(int32_t v)
{
    return (q7_t)(v > 127 ? 127 : (v < -128 ? -128 : v));
}

static inline q7_t hil_nn_requantise(int32_t acc, uint16_t out_shift)
{
    return hil_nn_sat_q7(acc >> hil_nn_shift(out_shift));
}

/* acc + sum(a[i] * b[i]). On cores with 32-bit SIMD, four products per two
 * SMLADs; in the valid domain the sum never overflows, so both ways agree
 * bit for bit. */
static inline int32_t hil_nn_dot_q7(const q7_t *a, const q7_t *b, uint32_t n, int32_t acc)
{
#ifdef HIL_NN_SIMD32
    uint32_t blocks = n >> 2;
    n &= 3u;
    while (blocks-- > 0u) {
        uint32_t wa;
        uint32_t wb;
        memcpy(&wa, a, 4);
        memcpy(&wb, b, 4);
        a += 4;
        b += 4;
        /* even bytes pair with even, odd with odd: endian-independent */
        acc = __smlad(__sxtb16((int8x4_t)wa), __sxtb16((int8x4_t)wb), acc);
        acc = __smlad(__sxtb16((int8x4_t)((wa >> 8) | (wa << 24))),
                      __sxtb16((int8x4_t)((wb >> 8) | (wb << 24))), acc);
    }
#endif
    while (n-- > 0u) {
        acc += (int32_t)*a++ * (int32_t)*b++;
    }
    return acc;
}

/* Two dot products sharing the vector a: acc[k] += sum(a[i] * bk[i]).
 * Halves the loads of a when two filters see the same column. */
static inline void hil_nn_dot2_q7(const q7_t *a, const q7_t *b0, const q7_t *b1, uint32_t n,
                                  int32_t *acc0, int32_t *acc1)
{
    int32_t s0 = *acc0;
    int32_t s1 = *acc1;
#ifdef HIL_NN_SIMD32
    uint32_t blocks = n >> 2;
    n &= 3u;
    while (blocks-- > 0u) {
        uint32_t wa;
        uint32_t w0;
        uint32_t w1;
        memcpy(&wa, a, 4);
        memcpy(&w0, b0, 4);
        memcpy(&w1, b1, 4);
        a += 4;
        b0 += 4;
        b1 += 4;
        const int16x2_t a_even = __sxtb16((int8x4_t)wa);
        const int16x2_t a_odd = __sxtb16((int8x4_t)((wa >> 8) | (wa << 24)));
        s0 = __smlad(a_even, __sxtb16((int8x4_t)w0), s0);
        s0 = __smlad(a_odd, __sxtb16((int8x4_t)((w0 >> 8) | (w0 << 24))), s0);
        s1 = __smlad(a_even, __sxtb16((int8x4_t)w1), s1);
        s1 = __smlad(a_odd, __sxtb16((int8x4_t)((w1 >> 8) | (w1 << 24))), s1);
    }
#endif
    while (n-- > 0u) {
        const int32_t v = *a++;
        s0 += v * *b0++;
        s1 += v * *b1++;
    }
    *acc0 = s0;
    *acc1 = s1;
}

/* Two columns by two filters: acc[c][f] += sum(a_c[i] * b_f[i]). Each
 * loaded and widened word serves two products. */
static inline void hil_nn_dot2x2_q7(const q7_t *a0, const q7_t *a1, const q7_t *b0,
                                    const q7_t *b1, uint32_t n, int32_t acc[4])
{
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
#ifdef HIL_NN_SIMD32
    uint32_t blocks = n >> 2;
    n &= 3u;
    while (blocks-- > 0u) {
        uint32_t w;
        memcpy(&w, b0, 4);
        const int16x2_t b0e = __sxtb16((int8x4_t)w);
        const int16x2_t b0o = __sxtb16((int8x4_t)((w >> 8) | (w << 24)));
        memcpy(&w, b1, 4);
        const int16x2_t b1e = __sxtb16((int8x4_t)w);
        const int16x2_t b1o = __sxtb16((int8x4_t)((w >> 8) | (w << 24)));
        memcpy(&w, a0, 4);
        int16x2_t e = __sxtb16((int8x4_t)w);
        int16x2_t o = __sxtb16((int8x4_t)((w >> 8) | (w << 24)));
        s00 = __smlad(o, b0o, __smlad(e, b0e, s00));
        s01 = __smlad(o, b1o, __smlad(e, b1e, s01));
        memcpy(&w, a1, 4);
        e = __sxtb16((int8x4_t)w);
        o = __sxtb16((int8x4_t)((w >> 8) | (w << 24)));
        s10 = __smlad(o, b0o, __smlad(e, b0e, s10));
        s11 = __smlad(o, b1o, __smlad(e, b1e, s11));
        a0 += 4;
        a1 += 4;
        b0 += 4;
        b1 += 4;
    }
#endif
    while (n-- > 0u) {
        const int32_t x0 = *a0++, x1 = *a1++, w0 = *b0++, w1 = *b1++;
        s00 += x0 * w0;
        s01 += x0 * w1;
        s10 += x1 * w0;
        s11 += x1 * w1;
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
}

/* Geometry shared by the convolution helpers. */
typedef struct {
    uint16_t in_x, in_y, ch_in, ch_out;
    uint16_t k_x, k_y, pad_x, pad_y, stride_x, stride_y;
    uint16_t out_x, out_y;
    uint16_t bias_shift, out_shift;
} hil_nn_conv_geom;

/* Top-left corner (y0, x0) of the window of output pixel p (row-major). */
static inline void hil_nn_window(const hil_nn_conv_geom *g, uint32_t p, int32_t *y0, int32_t *x0)
{
    *y0 = (int32_t)(p / g->out_x) * (int32_t)g->stride_y - (int32_t)g->pad_y;
    *x0 = (int32_t)(p % g->out_x) * (int32_t)g->stride_x - (int32_t)g->pad_x;
}

/* Copy the window with top-left corner (y0, x0) into col as
 * [k_y][k_x][ch_in] (k_len bytes), zeros where it leaves the image. */
void hil_nn_im2col(const hil_nn_conv_geom *g, const q7_t *in, int32_t y0, int32_t x0, q7_t *col);

/* All ch_out filters (wt [ch_out][k_len]) applied to one column of k_len
 * values: out[co] for co < ch_out, two filters per pass. */
void hil_nn_filters(const q7_t *col, const q7_t *wt, const q7_t *bias, uint32_t k_len,
                    uint32_t ch_out, uint16_t bias_shift, uint16_t out_shift, q7_t *out);

/* hil_nn_filters for two columns at once, into out0 and out1. */
void hil_nn_filters2(const q7_t *col0, const q7_t *col1, const q7_t *wt, const q7_t *bias,
                     uint32_t k_len, uint32_t ch_out, uint16_t bias_shift, uint16_t out_shift,
                     q7_t *out0, q7_t *out1);

/* Normal convolution (wt [ch_out][k_y][k_x][ch_in]); col is the caller's
 * bufferA, 4*ch_in*k_x*k_y bytes (the documented 2*ch_in*k_x*k_y q15_t).
 * Takes hil_nn_conv_widened when it can, else two byte columns of im2col
 * (the first half of col). */
void hil_nn_conv_hwc(const hil_nn_conv_geom *g, const q7_t *in, const q7_t *wt,
                     const q7_t *bias, q7_t *out, q7_t *col);

/* Normal convolution with SMLAD (hil_nn_conv_simd.c), using all of scratch
 * (4*ch_in*k_x*k_y bytes, word-aligned). Returns 1 when done; 0, having
 * touched nothing, without HIL_NN_SIMD32 or with a misaligned scratch. */
int hil_nn_conv_widened(const hil_nn_conv_geom *g, const q7_t *in, const q7_t *wt,
                        const q7_t *bias, q7_t *out, void *scratch);

/* Depthwise convolution (wt [k_y][k_x][ch], ch_out == ch_in). */
void hil_nn_depthwise_hwc(const hil_nn_conv_geom *g, const q7_t *in, const q7_t *wt,
                          const q7_t *bias, q7_t *out);

#endif /* HIL_NN_INTERNAL_H */
