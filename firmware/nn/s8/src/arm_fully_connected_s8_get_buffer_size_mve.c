/* arm_fully_connected_s8_get_buffer_size_mve: on Helium the genuine library
 * keeps one int32 kernel sum per output. */
#include "hil_nn_s8_internal.h"

int32_t arm_fully_connected_s8_get_buffer_size_mve(const cmsis_nn_dims *filter_dims)
{
    return filter_dims->c * (int32_t)sizeof(int32_t);
}
