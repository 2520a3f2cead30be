/*
 * arm_convolve_wrapper_s8: s8 convolution, one kernel for every shape
 * (the genuine wrapper picks among several; all compute this).
 * Grouped convolution follows TFLite Micro: filter_dims->c input channels
 * per group, C_OUT / groups filters per group.
 */
#include "hil_nn_s8_internal.h"

arm_cmsis_nn_status arm_convolve_wrapper_s8(const cmsis_nn_context *ctx,
                                            const cmsis_nn_conv_params *conv_params,
                                            const cmsis_nn_per_channel_quant_params *quant_params,
                                            const cmsis_nn_dims *input_dims,
                                            const int8_t *input_data,
                                            const cmsis_nn_dims *filter_dims,
                                            const int8_t *filter_data,
                                            const cmsis_nn_dims *bias_dims,
                                            const int32_t *bias_data,
                                            const cmsis_nn_dims *output_dims,
                                            int8_t *output_data)
{
    (void)ctx;
    (void)bias_dims;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t f_h = filter_dims->h;
    const int32_t f_w = filter_dims->w;
    const int32_t f_c = filter_dims->c;
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    const int32_t out_c = output_dims->c;
    const int32_t stride_h = conv_params->stride.h;
    const int32_t stride_w = conv_params->stride.w;
    const int32_t dil_h = conv_params->dilation.h;
    const int32_t dil_w = conv_params->dilation.w;

    if (f_c < 1 || in_c % f_c != 0 || stride_h < 1 || stride_w < 1 || dil_h < 1 || dil_w < 1)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t groups = in_c / f_c;
    if (out_c % groups != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t per_group = out_c / groups;
    const int32_t input_offset = conv_params->input_offset;
    const int32_t output_offset = conv_params->output_offset;
    const int32_t act_min = conv_params->activation.min;
    const int32_t act_max = conv_params->activation.max;

    for (int32_t n = 0; n < input_dims->n; n++)
    {
        const int8_t *in_batch = input_data + (size_t)n * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; oy++)
        {
            const int32_t y0 = oy * stride_h - conv_params->padding.h;
            for (int32_t ox = 0; ox < out_w; ox++)
            {
                const int32_t x0 = ox * stride_w - conv_params->padding.w;
                for (int32_t oc = 0; oc < out_c; oc++)
                {
                    const int8_t *in_group = in_batch + (oc / per_group) * f_c;
                    const int8_t *filter = filter_data + (size_t)oc * f_h * f_w * f_c;
                    int32_t acc = bias_data != NULL ? bias_data[oc] : 0;
                    for (int32_t ky = 0; ky < f_h; ky++)
                    {
                        const int32_t iy = y0 + ky * dil_h;
                        if (iy < 0 || iy >= in_h)
                        {
                            continue;
                        }
                        for (int32_t kx = 0; kx < f_w; kx++)
                        {
                            const int32_t ix = x0 + kx * dil_w;
                            if (ix < 0 || ix >= in_w)
                            {
                                continue;
                            }
                            int32_t sum_w;
                            const int32_t dot = hil_s8_dot(in_group + ((size_t)iy * in_w + ix) * in_c,
                                                           filter + ((size_t)ky * f_w + kx) * f_c,
                                                           f_c,
                                                           &sum_w);
                            acc = hil_s8_wrap_add(acc, hil_s8_wrap_add(dot, hil_s8_wrap_mul(input_offset, sum_w)));
                        }
                    }
                    *output_data++ = hil_s8_output(acc,
                                                   quant_params->multiplier[oc],
                                                   quant_params->shift[oc],
                                                   output_offset,
                                                   act_min,
                                                   act_max);
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
