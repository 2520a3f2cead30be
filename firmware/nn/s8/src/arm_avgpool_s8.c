/* arm_avgpool_s8: s8 average pooling over the in-bounds taps of each
 * window, rounding halves away from zero as TFLite Micro does. */
#include "hil_nn_s8_internal.h"

arm_cmsis_nn_status arm_avgpool_s8(const cmsis_nn_context *ctx,
                                   const cmsis_nn_pool_params *pool_params,
                                   const cmsis_nn_dims *input_dims,
                                   const int8_t *input_data,
                                   const cmsis_nn_dims *filter_dims,
                                   const cmsis_nn_dims *output_dims,
                                   int8_t *output_data)
{
    (void)ctx;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t ch = input_dims->c;
    const int32_t act_min = pool_params->activation.min;
    const int32_t act_max = pool_params->activation.max;
    if (input_dims->n < 1)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    /* Refuse before writing anything: a window wholly in the padding has no average. */
    for (int32_t oy = 0; oy < output_dims->h; oy++)
    {
        int32_t y_start;
        int32_t y_stop;
        hil_s8_span(oy, pool_params->stride.h, pool_params->padding.h, filter_dims->h, in_h, &y_start, &y_stop);
        for (int32_t ox = 0; ox < output_dims->w; ox++)
        {
            int32_t x_start;
            int32_t x_stop;
            hil_s8_span(ox, pool_params->stride.w, pool_params->padding.w, filter_dims->w, in_w, &x_start, &x_stop);
            if (y_stop <= y_start || x_stop <= x_start)
            {
                return ARM_CMSIS_NN_ARG_ERROR;
            }
        }
    }
    for (int32_t n = 0; n < input_dims->n; n++)
    {
        const int8_t *in = input_data + (size_t)n * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++)
        {
            int32_t y_start;
            int32_t y_stop;
            hil_s8_span(oy, pool_params->stride.h, pool_params->padding.h, filter_dims->h, in_h, &y_start, &y_stop);
            for (int32_t ox = 0; ox < output_dims->w; ox++)
            {
                int32_t x_start;
                int32_t x_stop;
                hil_s8_span(
                    ox, pool_params->stride.w, pool_params->padding.w, filter_dims->w, in_w, &x_start, &x_stop);
                const int32_t count = (y_stop - y_start) * (x_stop - x_start);
                for (int32_t c = 0; c < ch; c++)
                {
                    int32_t sum = 0;
                    for (int32_t y = y_start; y < y_stop; y++)
                    {
                        for (int32_t x = x_start; x < x_stop; x++)
                        {
                            sum += in[((size_t)y * in_w + x) * ch + c];
                        }
                    }
                    int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    avg = avg < act_min ? act_min : avg;
                    avg = avg > act_max ? act_max : avg;
                    *output_data++ = (int8_t)avg;
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
