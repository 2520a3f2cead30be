/* arm_avgpool_s8_get_buffer_size_dsp: one int32 sum per channel. */
#include "hil_nn_s8_internal.h"

int32_t arm_avgpool_s8_get_buffer_size_dsp(const int dim_dst_width, const int ch_src)
{
    (void)dim_dst_width;
    return ch_src * (int32_t)sizeof(int32_t);
}
