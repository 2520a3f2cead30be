/* arm_relu6_s8: clamp to [0, 6] in place. */
#include "hil_nn_s8_internal.h"

void arm_relu6_s8(int8_t *data, uint16_t size)
{
    for (uint16_t i = 0; i < size; i++)
    {
        const int8_t v = data[i];
        data[i] = v < 0 ? 0 : (v > 6 ? 6 : v);
    }
}
