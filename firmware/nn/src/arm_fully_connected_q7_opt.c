/*
 * arm_fully_connected_q7_opt: q7 matrix times q7 vector, with the matrix in
 * the 4-row interleaved layout described in arm_nnfunctions.h. The weights
 * are read once, in storage order, four rows at a time.
 */
#include "hil_nn_internal.h"

arm_status arm_fully_connected_q7_opt(const q7_t *pV,
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
    const uint32_t full_cols = (uint32_t)dim_vec & ~3u;
    uint32_t r = 0;

    for (; r + 4u <= num_of_rows; r += 4u) {
        int32_t a0 = hil_nn_acc_init(bias[r], bias_shift, out_shift);
        int32_t a1 = hil_nn_acc_init(bias[r + 1u], bias_shift, out_shift);
        int32_t a2 = hil_nn_acc_init(bias[r + 2u], bias_shift, out_shift);
        int32_t a3 = hil_nn_acc_init(bias[r + 3u], bias_shift, out_shift);
        uint32_t c = 0;
        for (; c < full_cols; c += 4u, pM += 16) {
            const int32_t v0 = pV[c], v1 = pV[c + 1u], v2 = pV[c + 2u], v3 = pV[c + 3u];
            a0 += pM[0] * v0 + pM[2] * v2 + pM[8] * v1 + pM[10] * v3;
            a1 += pM[1] * v0 + pM[3] * v2 + pM[9] * v1 + pM[11] * v3;
            a2 += pM[4] * v0 + pM[6] * v2 + pM[12] * v1 + pM[14] * v3;
            a3 += pM[5] * v0 + pM[7] * v2 + pM[13] * v1 + pM[15] * v3;
        }
        for (; c < dim_vec; c++, pM += 4) {
            const int32_t v = pV[c];
            a0 += pM[0] * v;
            a1 += pM[1] * v;
            a2 += pM[2] * v;
            a3 += pM[3] * v;
        }
        pOut[r] = hil_nn_requantise(a0, out_shift);
        pOut[r + 1u] = hil_nn_requantise(a1, out_shift);
        pOut[r + 2u] = hil_nn_requantise(a2, out_shift);
        pOut[r + 3u] = hil_nn_requantise(a3, out_shift);
    }
    for (; r < num_of_rows; r++, pM += dim_vec) {
        int32_t acc = hil_nn_acc_init(bias[r], bias_shift, out_shift);
        acc = hil_nn_dot_q7(pM, pV, dim_vec, acc);
        pOut[r] = hil_nn_requantise(acc, out_shift);
    }
    return ARM_MATH_SUCCESS;
}
