/*
 * arm_fully_connected_q7_opt: q7 matrix times q7 vector, with the matrix in
 * the 4-row interleaved layout described in arm_nnfunctions.h. The weights
 * are read once, in storage order, four rows at a time; the rows left over
 * after the last block are row-major, so arm_fully_connected_q7 does them.
 */
#include "hil_nn_internal.h"

/* Saturate to q7 (one SSAT where the core has it). */
#if defined(__ARM_FEATURE_SAT) && (__ARM_FEATURE_SAT == 1)
#include <arm_acle.h>
#define narrow_q7(v) ((q7_t)__ssat((v), 8))
#else
#define narrow_q7(v) hil_nn_sat_q7(v)
#endif

/* The SIMD block code below reads the layout's byte pairs through the
 * order of bytes in a word: little-endian only (every Cortex-M build hil
 * makes); anything else takes the plain path. */
#if defined(HIL_NN_SIMD32) && defined(__BYTE_ORDER__) && \
    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#define BLOCK_SIMD 1
#endif

#ifdef BLOCK_SIMD

/*
 * A word of the block holds two columns of two rows, one row in its even
 * bytes and the other in its odd bytes. SXTB16 extracts the even row; the
 * odd row stays where it is (AND 0xFF00FF00), each value 256 times too large
 * at the top of its halfword. The odd rows (1 and 3 of the block) therefore
 * sum 256 times too large, in partial sums flushed into their accumulators
 * often enough to stay exact: that spares one rotate-and-extend per word.
 */
#define HIGH_BYTES 0xFF00FF00u

/*
 * Column groups (4 columns) between two flushes: a group adds at most
 * 4 * 128*128*256 = 2^24 in magnitude to an x256 sum, so up to 127 groups
 * stay below 2^31 and the arithmetic shift back by 8 is exact.
 */
#define GROUPS_PER_FLUSH 127u

/* Sums of a block: rows 0 and 2 as they are, rows 1 and 3 times 256. */
typedef struct {
    int32_t row0, row1_x256, row2, row3_x256;
} block_sums;

/* One column group (16 bytes of the block, 4 of the vector) into s. */
static inline void block_group(const q7_t *pV, const q7_t *pM, block_sums *s)
{
    uint32_t v, w0, w1, w2, w3;
    memcpy(&v, pV, 4);
    memcpy(&w0, pM, 4);
    memcpy(&w1, pM + 4, 4);
    memcpy(&w2, pM + 8, 4);
    memcpy(&w3, pM + 12, 4);
    /* columns c, c+2 and c+1, c+3 of the vector */
    const int16x2_t v_even = __sxtb16((int8x4_t)v);
    const int16x2_t v_odd = __sxtb16((int8x4_t)(v >> 8));
    /* w0: rows 0,1 at c, c+2; w1: rows 2,3 at c, c+2; w2, w3: the same
     * rows at c+1, c+3 */
    s->row0 = __smlad(__sxtb16((int8x4_t)w0), v_even, s->row0);
    s->row1_x256 = __smlad((int16x2_t)(w0 & HIGH_BYTES), v_even, s->row1_x256);
    s->row2 = __smlad(__sxtb16((int8x4_t)w1), v_even, s->row2);
    s->row3_x256 = __smlad((int16x2_t)(w1 & HIGH_BYTES), v_even, s->row3_x256);
    s->row0 = __smlad(__sxtb16((int8x4_t)w2), v_odd, s->row0);
    s->row1_x256 = __smlad((int16x2_t)(w2 & HIGH_BYTES), v_odd, s->row1_x256);
    s->row2 = __smlad(__sxtb16((int8x4_t)w3), v_odd, s->row2);
    s->row3_x256 = __smlad((int16x2_t)(w3 & HIGH_BYTES), v_odd, s->row3_x256);
}

/* acc[0..3] += the block's complete column groups times pV. */
static inline void block_groups(const q7_t *pV, const q7_t *pM, uint32_t groups, int32_t acc[4])
{
    block_sums s = {acc[0], 0, acc[2], 0};
    while (groups > 0u) {
        uint32_t n = groups < GROUPS_PER_FLUSH ? groups : GROUPS_PER_FLUSH;
        groups -= n;
        s.row1_x256 = 0;
        s.row3_x256 = 0;
        for (; n > 0u; n--, pV += 4, pM += 16) {
            block_group(pV, pM, &s);
        }
        acc[1] += s.row1_x256 >> 8;
        acc[3] += s.row3_x256 >> 8;
    }
    acc[0] = s.row0;
    acc[2] = s.row2;
}

#else /* plain C: the same sums, one product at a time */

static inline void block_groups(const q7_t *pV, const q7_t *pM, uint32_t groups, int32_t acc[4])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (; groups > 0u; groups--, pV += 4, pM += 16) {
        const int32_t v0 = pV[0], v1 = pV[1], v2 = pV[2], v3 = pV[3];
        a0 += pM[0] * v0 + pM[2] * v2 + pM[8] * v1 + pM[10] * v3;
        a1 += pM[1] * v0 + pM[3] * v2 + pM[9] * v1 + pM[11] * v3;
        a2 += pM[4] * v0 + pM[6] * v2 + pM[12] * v1 + pM[14] * v3;
        a3 += pM[5] * v0 + pM[7] * v2 + pM[13] * v1 + pM[15] * v3;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#endif /* BLOCK_SIMD */

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
    const uint32_t groups = (uint32_t)dim_vec >> 2;
    const uint32_t full_cols = groups * 4u;
    const uint32_t shift = hil_nn_shift(out_shift);
    uint32_t r = 0;

    for (; r + 4u <= num_of_rows; r += 4u, pOut += 4) {
        int32_t acc[4] = {
            hil_nn_acc_init(bias[r], bias_shift, out_shift),
            hil_nn_acc_init(bias[r + 1u], bias_shift, out_shift),
            hil_nn_acc_init(bias[r + 2u], bias_shift, out_shift),
            hil_nn_acc_init(bias[r + 3u], bias_shift, out_shift),
        };
        block_groups(pV, pM, groups, acc);
        pM += groups * 16u;
        for (uint32_t c = full_cols; c < dim_vec; c++, pM += 4) {
            const int32_t v = pV[c];
            acc[0] += pM[0] * v;
            acc[1] += pM[1] * v;
            acc[2] += pM[2] * v;
            acc[3] += pM[3] * v;
        }
        pOut[0] = narrow_q7(acc[0] >> shift);
        pOut[1] = narrow_q7(acc[1] >> shift);
        pOut[2] = narrow_q7(acc[2] >> shift);
        pOut[3] = narrow_q7(acc[3] >> shift);
    }
    if (r < num_of_rows) {
        /* the leftover rows are plain row-major */
        (void)arm_fully_connected_q7(pV, pM, dim_vec, (uint16_t)(num_of_rows - r), bias_shift,
                                     out_shift, bias + r, pOut, vec_buffer);
    }
    return ARM_MATH_SUCCESS;
}
