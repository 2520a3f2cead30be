/* arm_convolve_wrapper_s8_get_buffer_size_dsp: the genuine library's
 * scratch size on a core with the DSP extension (callable on any host). */
#include "hil_nn_s8_internal.h"

int32_t arm_convolve_wrapper_s8_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims)
{
    if (hil_s8_is_1x1(conv_params, input_dims, filter_dims))
    {
        return hil_s8_is_1x1_unit_stride(conv_params) ? hil_s8_1x1_fast_size_dsp(input_dims) : 0;
    }
#if defined(ARM_MATH_MVEI)
    /* Compiled for Helium, the genuine im2col kernels size for Helium here too. */
    if (hil_s8_is_1_x_n(conv_params, input_dims, filter_dims))
    {
        return hil_s8_1_x_n_size_mve(conv_params, input_dims, filter_dims, output_dims);
    }
    return hil_s8_im2col_size_mve(input_dims, filter_dims);
#else
    (void)output_dims;
    return hil_s8_im2col_size(input_dims, filter_dims);
#endif
}
