/* arm_avgpool_s8_get_buffer_size: the genuine library's answer for the
 * target being compiled for. */
#include "hil_nn_s8_internal.h"

int32_t arm_avgpool_s8_get_buffer_size(const int dim_dst_width, const int ch_src)
{
#if defined(ARM_MATH_MVEI)
    return arm_avgpool_s8_get_buffer_size_mve(dim_dst_width, ch_src);
#elif defined(ARM_MATH_DSP)
    return arm_avgpool_s8_get_buffer_size_dsp(dim_dst_width, ch_src);
#else
    (void)dim_dst_width;
    (void)ch_src;
    return 0;
#endif
}
