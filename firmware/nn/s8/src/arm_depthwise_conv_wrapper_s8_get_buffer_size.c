/* arm_depthwise_conv_wrapper_s8_get_buffer_size: the genuine library's
 * answer for the target being compiled for. */
#include "hil_nn_s8_internal.h"

int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                      const cmsis_nn_dims *input_dims,
                                                      const cmsis_nn_dims *filter_dims,
                                                      const cmsis_nn_dims *output_dims)
{
#if defined(ARM_MATH_MVEI)
    if (input_dims->c == 1 && output_dims->c > HIL_S8_MVE_DW_AS_CONV_ABOVE)
    {
        return hil_s8_dw_one_in_ch_size_mve(dw_conv_params, input_dims, filter_dims, output_dims);
    }
    return hil_s8_dw_is_opt(dw_conv_params, input_dims, output_dims) ? hil_s8_dw_opt_size_mve(filter_dims) : 0;
#elif defined(ARM_MATH_DSP)
    return arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp(dw_conv_params, input_dims, filter_dims, output_dims);
#else
    (void)dw_conv_params;
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
#endif
}
