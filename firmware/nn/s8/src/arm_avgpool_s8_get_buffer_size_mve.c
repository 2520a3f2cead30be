/* arm_avgpool_s8_get_buffer_size_mve: none on Helium. */
#include "hil_nn_s8_internal.h"

int32_t arm_avgpool_s8_get_buffer_size_mve(const int dim_dst_width, const int ch_src)
{
    (void)dim_dst_width;
    (void)ch_src;
    return 0;
}
