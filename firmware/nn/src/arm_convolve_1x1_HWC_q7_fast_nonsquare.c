/*
 * arm_convolve_1x1_HWC_q7_fast_nonsquare: pointwise (1x1) convolution.
 * Semantics and scratch sizes: arm_nnfunctions.h.
 */
#include "hil_nn_internal.h"

arm_status arm_convolve_1x1_HWC_q7_fast_nonsquare(const q7_t *Im_in,
                                                  const uint16_t dim_im_in_x,
                                                  const uint16_t dim_im_in_y,
                                                  const uint16_t ch_im_in,
                                                  const q7_t *wt,
                                                  const uint16_t ch_im_out,
                                                  const uint16_t dim_kernel_x,
                                                  const uint16_t dim_kernel_y,
                                                  const uint16_t padding_x,
                                                  const uint16_t padding_y,
                                                  const uint16_t stride_x,
                                                  const uint16_t stride_y,
                                                  const q7_t *bias,
                                                  const uint16_t bias_shift,
                                                  const uint16_t out_shift,
                                                  q7_t *Im_out,
                                                  const uint16_t dim_im_out_x,
                                                  const uint16_t dim_im_out_y,
                                                  q15_t *bufferA,
                                                  q7_t *bufferB)
{
    (void)bufferB;
    if (ch_im_in % 4u != 0u || ch_im_out % 2u != 0u || dim_kernel_x != 1u || dim_kernel_y != 1u ||
        padding_x != 0u || padding_y != 0u || stride_x != 1u || stride_y != 1u) {
        return ARM_MATH_SIZE_MISMATCH;
    }
    (void)dim_im_in_x; /* equal to the output dimensions for a 1x1 kernel */
    (void)dim_im_in_y;
#ifdef HIL_NN_SIMD32
    const hil_nn_conv_geom g = {
        .in_x = dim_im_out_x, .in_y = dim_im_out_y, .ch_in = ch_im_in, .ch_out = ch_im_out,
        .k_x = 1, .k_y = 1, .stride_x = 1, .stride_y = 1,
        .out_x = dim_im_out_x, .out_y = dim_im_out_y,
        .bias_shift = bias_shift, .out_shift = out_shift,
    };
    if (hil_nn_conv_widened(&g, Im_in, wt, bias, Im_out, bufferA)) {
        return ARM_MATH_SUCCESS;
    }
#else
    (void)bufferA;
#endif
    /* each pixel is ch_im_out dot products with its own ch_im_in values */
    const uint32_t pixels = (uint32_t)dim_im_out_x * dim_im_out_y;
    const q7_t *px = Im_in;
    for (uint32_t i = 0; i < pixels; i++, px += ch_im_in, Im_out += ch_im_out) {
        hil_nn_filters(px, wt, bias, ch_im_in, ch_im_out, bias_shift, out_shift, Im_out);
    }
    return ARM_MATH_SUCCESS;
}
