/*
 * arm_depthwise_separable_conv_HWC_q7_nonsquare: non-square depthwise convolution, channel multiplier 1.
 * Semantics and scratch sizes: arm_nnfunctions.h.
 */
#include "hil_nn_internal.h"

arm_status arm_depthwise_separable_conv_HWC_q7_nonsquare(const q7_t *Im_in,
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
    if (ch_im_out != ch_im_in) {
        return ARM_MATH_SIZE_MISMATCH;
    }
    const hil_nn_conv_geom g = {
        .in_x = dim_im_in_x, .in_y = dim_im_in_y, .ch_in = ch_im_in, .ch_out = ch_im_out,
        .k_x = dim_kernel_x, .k_y = dim_kernel_y, .pad_x = padding_x, .pad_y = padding_y,
        .stride_x = stride_x, .stride_y = stride_y, .out_x = dim_im_out_x, .out_y = dim_im_out_y,
        .bias_shift = bias_shift, .out_shift = out_shift,
    };
    (void)bufferA;
    hil_nn_depthwise_hwc(&g, Im_in, wt, bias, Im_out);
    return ARM_MATH_SUCCESS;
}
