/*
 * arm_avepool_q7_HWC: square average pooling, plain-C or DSP-path semantics
 * (HIL_NN_POOL_SEPARABLE, arm_nn_math_types.h). Semantics:
 * arm_nnfunctions.h.
 */
#include "hil_nn_internal.h"

#if HIL_NN_POOL_SEPARABLE

/* Element-wise average of `count` blocks of n values, block k at
 * src + k*step, truncated toward zero, stored into dst. Each sum is
 * complete before its element is stored, so dst may be one of the blocks;
 * the genuine code sums into a separate int16 buffer with the same effect.
 * Windows of two and three blocks, the common pooling kernels, have loops
 * of their own without the inner loop over the blocks. */
static inline __attribute__((always_inline)) void average_into(q7_t *dst, const q7_t *src,
                                                               uint32_t step, uint32_t count,
                                                               uint32_t n)
{
    const int32_t divisor = (int32_t)count;
    const q7_t *const end = src + n;
    if (count == 2u) {
        for (; src < end; src++, dst++) {
            *dst = (q7_t)((src[0] + src[step]) / divisor);
        }
    } else if (count == 3u) {
        for (; src < end; src++, dst++) {
            *dst = (q7_t)((src[0] + src[step] + src[2u * step]) / divisor);
        }
    } else {
        for (; src < end; src++, dst++) {
            int32_t sum = src[0];
            const q7_t *p = src;
            for (uint32_t k = 1; k < count; k++) {
                p += step;
                sum += *p;
            }
            *dst = (q7_t)(sum / divisor);
        }
    }
}

void arm_avepool_q7_HWC(q7_t *Im_in,
                        const uint16_t dim_im_in,
                        const uint16_t ch_im_in,
                        const uint16_t dim_kernel,
                        const uint16_t padding,
                        const uint16_t stride,
                        const uint16_t dim_im_out,
                        q7_t *bufferA,
                        q7_t *Im_out)
{
    (void)bufferA;
    const uint32_t ch = ch_im_in;
    const uint32_t row_len = (uint32_t)dim_im_in * ch;

    /* Pass 1, along x, in place; a window clipped on the left starts at
     * column ox itself, and at least one column is always averaged. */
    for (uint32_t y = 0; y < dim_im_in; y++) {
        q7_t *row = Im_in + y * row_len;
        for (int32_t ox = 0; ox < (int32_t)dim_im_out; ox++) {
            int32_t start, stop;
            if (hil_nn_pool_span(ox, stride, padding, dim_kernel, dim_im_in, &start, &stop) < 0)
                start = ox;
            const uint32_t count = stop > start + 1 ? (uint32_t)(stop - start) : 1u;
            average_into(row + (uint32_t)ox * ch, row + (uint32_t)start * ch, ch, count, ch);
        }
    }

    /* Pass 2, along y, over the first dim_im_out columns of each row. */
    const uint32_t out_row_len = (uint32_t)dim_im_out * ch;
    for (int32_t oy = 0; oy < (int32_t)dim_im_out; oy++) {
        int32_t start, stop;
        (void)hil_nn_pool_span(oy, stride, padding, dim_kernel, dim_im_in, &start, &stop);
        const uint32_t count = stop > start + 1 ? (uint32_t)(stop - start) : 1u;
        average_into(Im_out + (uint32_t)oy * out_row_len, Im_in + (uint32_t)start * row_len, row_len,
                     count, out_row_len);
    }
}

#else /* plain-C path: textbook pooling over the clipped window */

void arm_avepool_q7_HWC(q7_t *Im_in,
                        const uint16_t dim_im_in,
                        const uint16_t ch_im_in,
                        const uint16_t dim_kernel,
                        const uint16_t padding,
                        const uint16_t stride,
                        const uint16_t dim_im_out,
                        q7_t *bufferA,
                        q7_t *Im_out)
{
    (void)bufferA;
    const int32_t n = dim_im_in;
    const uint32_t ch = ch_im_in;

    for (int32_t oy = 0; oy < (int32_t)dim_im_out; oy++) {
        int32_t ya, yb;
        (void)hil_nn_pool_span(oy, stride, padding, dim_kernel, dim_im_in, &ya, &yb);
        for (int32_t ox = 0; ox < (int32_t)dim_im_out; ox++) {
            int32_t xa, xb;
            (void)hil_nn_pool_span(ox, stride, padding, dim_kernel, dim_im_in, &xa, &xb);
            const int32_t count = (yb > ya && xb > xa) ? (yb - ya) * (xb - xa) : 0;
            for (uint32_t c = 0; c < ch; c++) {
                int32_t sum = 0;
                for (int32_t y = ya; y < yb; y++) {
                    const q7_t *p = Im_in + ((uint32_t)(y * n + xa)) * ch + c;
                    for (int32_t x = xa; x < xb; x++, p += ch) {
                        sum += *p;
                    }
                }
                /* an empty window gives 0, as a Cortex-M divide by zero */
                *Im_out++ = (q7_t)(count > 0 ? sum / count : 0);
            }
        }
    }
}

#endif
