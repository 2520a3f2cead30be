/*
 * arm_relu_q7: in-place ReLU. Semantics: arm_nnfunctions.h.
 */
#include "hil_nn_internal.h"

void arm_relu_q7(q7_t *data, uint16_t size)
{
    for (uint32_t i = 0; i < size; i++) {
        if (data[i] < 0) {
            data[i] = 0;
        }
    }
}
