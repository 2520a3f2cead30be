/*
 * arm_maxpool_q7_HWC: square max pooling, plain-C or DSP-path semantics
 * (HIL_NN_POOL_SEPARABLE, arm_nn_math_types.h). Semantics:
 * arm_nnfunctions.h.
 */
#include "hil_nn_internal.h"

#if HIL_NN_POOL_SEPARABLE

/* dst = max(dst, src) element-wise over n values */
static void max_into(q7_t *dst, const q7_t *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (src[i] > dst[i]) {
            dst[i] = src[i];
        }
    }
}

void arm_maxpool_q7_HWC(q7_t *Im_in,
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
     * column ox itself and reads columns already overwritten, exactly as
     * the genuine DSP path does. */
    for (uint32_t y = 0; y < dim_im_in; y++) {
        q7_t *row = Im_in + y * row_len;
        for (int32_t ox = 0; ox < (int32_t)dim_im_out; ox++) {
            int32_t start, stop;
            if (hil_nn_pool_span(ox, stride, padding, dim_kernel, dim_im_in, &start, &stop) < 0)
                start = ox;
            q7_t *target = row + (uint32_t)ox * ch;
            memmove(target, row + (uint32_t)start * ch, ch);
            for (int32_t x = start + 1; x < stop; x++) {
                max_into(target, row + (uint32_t)x * ch, ch);
            }
        }
    }

    /* Pass 2, along y, over the first dim_im_out columns of each row. */
    const uint32_t out_row_len = (uint32_t)dim_im_out * ch;
    for (int32_t oy = 0; oy < (int32_t)dim_im_out; oy++) {
        int32_t start, stop;
        (void)hil_nn_pool_span(oy, stride, padding, dim_kernel, dim_im_in, &start, &stop);
        q7_t *target = Im_out + (uint32_t)oy * out_row_len;
        memcpy(target, Im_in + (uint32_t)start * row_len, out_row_len);
        for (int32_t y = start + 1; y < stop; y++) {
            max_into(target, Im_in + (uint32_t)y * row_len, out_row_len);
        }
    }
}

#else /* plain-C path: textbook pooling over the clipped window */

void arm_maxpool_q7_HWC(q7_t *Im_in,
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
            for (uint32_t c = 0; c < ch; c++) {
                int32_t max = -129; /* an empty window stores (q7_t)-129 = 127 */
                for (int32_t y = ya; y < yb; y++) {
                    const q7_t *p = Im_in + ((uint32_t)(y * n + xa)) * ch + c;
                    for (int32_t x = xa; x < xb; x++, p += ch) {
                        if (*p > max) {
                            max = *p;
                        }
                    }
                }
                *Im_out++ = (q7_t)(uint8_t)(uint32_t)max;
            }
        }
    }
}

#endif
