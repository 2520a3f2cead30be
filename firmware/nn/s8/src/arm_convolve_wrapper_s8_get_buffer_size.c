/* arm_convolve_wrapper_s8_get_buffer_size: the genuine library's answer
 * for the target being compiled for. */
#include "hil_nn_s8_internal.h"

int32_t arm_convolve_wrapper_s8_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                const cmsis_nn_dims *input_dims,
                                                const cmsis_nn_dims *filter_dims,
                                                const cmsis_nn_dims *output_dims)
{
#if defined(ARM_MATH_MVEI)
    return arm_convolve_wrapper_s8_get_buffer_size_mve(conv_params, input_dims, filter_dims, output_dims);
#elif defined(ARM_MATH_DSP)
    return arm_convolve_wrapper_s8_get_buffer_size_dsp(conv_params, input_dims, filter_dims, output_dims);
#else
    (void)output_dims;
    if (hil_s8_is_1x1(conv_params, input_dims, filter_dims))
    {
        return 0;
    }
    return hil_s8_im2col_size(input_dims, filter_dims);
#endif
}
