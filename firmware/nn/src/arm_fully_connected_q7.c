/*
 * arm_fully_connected_q7: row-major q7 matrix times q7 vector.
 * Semantics and scratch sizes: arm_nnfunctions.h.
 */
#include "hil_nn_internal.h"

arm_status arm_fully_connected_q7(const q7_t *pV,
                                  const q7_t *pM,
                                  const uint16_t dim_vec,
                                  const uint16_t num_of_rows,
                                  const uint16_t bias_shift,
                                  const uint16_t out_shift,
                                  const q7_t *bias,
                                  q7_t *pOut,
                                  q15_t *vec_buffer)
{
    (void)vec_buffer;
    for (uint32_t r = 0; r < num_of_rows; r++, pM += dim_vec) {
        int32_t acc = hil_nn_acc_init(bias[r], bias_shift, out_shift);
        acc = hil_nn_dot_q7(pM, pV, dim_vec, acc);
        pOut[r] = hil_nn_requantise(acc, out_shift);
    }
    return ARM_MATH_SUCCESS;
}
