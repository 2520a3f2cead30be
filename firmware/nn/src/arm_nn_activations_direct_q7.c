/*
 * arm_nn_activations_direct_q7: in-place sigmoid/tanh by table lookup.
 * Semantics: arm_nnfunctions.h; tables: arm_nn_tables.c.
 */
#include "arm_nn_tables.h"
#include "hil_nn_internal.h"

void arm_nn_activations_direct_q7(q7_t *data,
                                  uint16_t size,
                                  uint16_t int_width,
                                  arm_nn_activation_type type)
{
    const q7_t *table = type == ARM_SIGMOID ? sigmoidTable_q7 : tanhTable_q7;
    /* the tables take Q3.4; shift the input's fraction point there */
    const uint32_t shift = 3u - (int_width > 3u ? 3u : (uint32_t)int_width);

    for (uint32_t i = 0; i < size; i++) {
        data[i] = table[(uint8_t)(data[i] >> shift)];
    }
}
