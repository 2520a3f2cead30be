/*
 * arm_convolve_HWC_q7_fast: square HWC convolution for ch_im_in % 4 == 0, ch_im_out % 2 == 0.
 * Semantics and scratch sizes: arm_nnfunctions.h.
 */
#include "hil_nn_internal.h"

arm_status arm_convolve_HWC_q7_fast(const q7_t *Im_in,
                                    const uint16_t dim_im_in,
                                    const uint16_t ch_im_in,
                                    const q7_t *wt,
                                    const uint16_t ch_im_out,
                                    const uint16_t dim_kernel,
                                    const uint16_t padding,
                                    const uint16_t stride,
                                    const q7_t *bias,
                                    const uint16_t bias_shift,
                                    const uint16_t out_shift,
                                    q7_t *Im_out,
                                    const uint16_t dim_im_out,
                                    q15_t *bufferA,
                                    q7_t *bufferB)
{
    (void)bufferB;
    if (ch_im_in % 4u != 0u || ch_im_out % 2u != 0u) {
        return ARM_MATH_SIZE_MISMATCH;
    }
    const hil_nn_conv_geom g = {
        .in_x = dim_im_in, .in_y = dim_im_in, .ch_in = ch_im_in, .ch_out = ch_im_out,
        .k_x = dim_kernel, .k_y = dim_kernel, .pad_x = padding, .pad_y = padding,
        .stride_x = stride, .stride_y = stride, .out_x = dim_im_out, .out_y = dim_im_out,
        .bias_shift = bias_shift, .out_shift = out_shift,
    };
    hil_nn_conv_hwc(&g, Im_in, wt, bias, Im_out, (q7_t *)bufferA);
    return ARM_MATH_SUCCESS;
}
