/* arm_depthwise_conv_wrapper_s8_get_buffer_size_mve: the genuine library's
 * scratch size on a Helium core (callable on any host). */
#include "hil_nn_s8_internal.h"

int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size_mve(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                          const cmsis_nn_dims *input_dims,
                                                          const cmsis_nn_dims *filter_dims,
                                                          const cmsis_nn_dims *output_dims)
{
    int32_t size = 0;
    if (hil_s8_dw_is_opt(dw_conv_params, input_dims, output_dims))
    {
        size = hil_s8_dw_opt_size_mve(filter_dims);
    }
    if (input_dims->c == 1 && output_dims->c > HIL_S8_MVE_DW_AS_CONV_ABOVE)
    {
        size = hil_s8_max(size, hil_s8_dw_one_in_ch_size_mve(dw_conv_params, input_dims, filter_dims, output_dims));
    }
    return size;
}
