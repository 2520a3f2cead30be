/* arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp: the genuine library's
 * scratch size on a core with the DSP extension (callable on any host). */
#include "hil_nn_s8_internal.h"

int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                          const cmsis_nn_dims *input_dims,
                                                          const cmsis_nn_dims *filter_dims,
                                                          const cmsis_nn_dims *output_dims)
{
    if (!hil_s8_dw_is_opt(dw_conv_params, input_dims, output_dims) || hil_s8_dw_is_3x3(dw_conv_params, filter_dims))
    {
        return 0;
    }
    return hil_s8_dw_opt_size_dsp(input_dims, filter_dims);
}
