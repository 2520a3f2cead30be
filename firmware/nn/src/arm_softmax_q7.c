/*
 * arm_softmax_q7: base-2 integer softmax approximation, in place allowed.
 * Semantics: arm_nnfunctions.h.
 */
#include "hil_nn_internal.h"

void arm_softmax_q7(const q7_t *vec_in, const uint16_t dim_vec, q7_t *p_out)
{
    if (dim_vec == 0u) {
        return; /* the sum below would be zero */
    }
    int32_t base = -128;
    for (uint32_t i = 0; i < dim_vec; i++) {
        if (vec_in[i] > base) {
            base = vec_in[i];
        }
    }
    /* elements 8 or more below the maximum count as 2^0 */
    base -= 8;

    int32_t sum = 0;
    for (uint32_t i = 0; i < dim_vec; i++) {
        const int32_t e = vec_in[i] - base;
        sum += (int32_t)1 << (e < 0 ? 0 : (e > 7 ? 7 : e));
    }
    const int32_t output_base = ((int32_t)1 << 20) / sum;

    /* element i is read before p_out[i] is written: safe in place */
    for (uint32_t i = 0; i < dim_vec; i++) {
        const int32_t s = 13 + base - vec_in[i];
        p_out[i] = hil_nn_sat_q7(output_base >> (s < 0 ? 0 : (s > 31 ? 31 : s)));
    }
}
