/*
 * arm_fully_connected_q7: row-major q7 matrix times q7 vector.
 * Semantics and scratch sizes: arm_nnfunctions.h.
 *
 * Rows go four at a time (the last one to three together), so each loaded
 * word of the vector serves four rows. On cores with 32-bit SIMD a word of
 * a row costs one load, one SXTB16, one AND and two SMLADs (row_word_x256).
 */
#include "hil_nn_internal.h"

/* Saturate to q7 (one SSAT where the core has it). */
#if defined(__ARM_FEATURE_SAT) && (__ARM_FEATURE_SAT == 1)
#include <arm_acle.h>
#define narrow_q7(v) ((q7_t)__ssat((v), 8))
#else
#define narrow_q7(v) hil_nn_sat_q7(v)
#endif

/* Unrolls the loops over the rows of a pass (n_rows is a constant there). */
#define EACH_ROW _Pragma("GCC unroll 4")

#ifdef HIL_NN_SIMD32

/*
 * Sums of four columns are formed 256 times too large: the even bytes of the
 * row (SXTB16) meet the even bytes of the vector shifted into the top of
 * their halfwords, and the odd bytes of the row, already at the top of their
 * halfwords (AND 0xFF00FF00), meet the odd bytes of the vector sign-extended.
 * That spares the rotate-and-extend a second SXTB16 would need per row word.
 */
#define HIGH_BYTES 0xFF00FF00u

/*
 * Column groups (4 columns) summed between two flushes of an x256 partial
 * sum into its row's accumulator. A group adds at most 4 * 128*128*256 =
 * 2^24 in magnitude, so 127 groups stay below 2^31: each partial sum is
 * exact, and so is its arithmetic shift back by 8.
 */
#define GROUPS_PER_FLUSH 127u

/*
 * No code: stops gcc's scheduler from hoisting every row's load to the top
 * of the loop, which runs out of registers and spills the sums.
 */
#define ROW_BY_ROW() __asm__ volatile("" ::: "memory")

typedef struct {
    int16x2_t even_x256; /* vector bytes 0 and 2, times 256 */
    int16x2_t odd;       /* vector bytes 1 and 3 */
} vec_word;

static inline vec_word vec_word_load(const q7_t *v)
{
    uint32_t w;
    memcpy(&w, v, 4);
    vec_word out;
    out.even_x256 = (int16x2_t)((w << 8) & HIGH_BYTES);
    out.odd = __sxtb16((int8x4_t)(w >> 8));
    return out;
}

/* s + 256 * (dot product of four row bytes with the vector word) */
static inline int32_t row_word_x256(const q7_t *row, vec_word v, int32_t s)
{
    uint32_t w;
    memcpy(&w, row, 4);
    s = __smlad(__sxtb16((int8x4_t)w), v.even_x256, s);
    return __smlad((int16x2_t)(w & HIGH_BYTES), v.odd, s);
}

/*
 * part[k] = 256 * (row k times pV) over n column groups (n <= 127), row k at
 * m + k * dim_vec. n_rows is 1 to 4, a constant once inlined, so the loops
 * over k unroll and the sums live in registers.
 */
static inline __attribute__((always_inline)) void rows_groups_x256(const q7_t *pV, const q7_t *m,
                                                                   uint32_t dim_vec,
                                                                   uint32_t n_rows, uint32_t n,
                                                                   int32_t part[4])
{
    EACH_ROW
    for (uint32_t k = 0; k < n_rows; k++) {
        part[k] = 0;
    }
    for (; n > 0u; n--, pV += 4, m += 4) {
        const vec_word v = vec_word_load(pV);
        EACH_ROW
        for (uint32_t k = 0; k < n_rows; k++) {
            ROW_BY_ROW();
            part[k] = row_word_x256(m + k * dim_vec, v, part[k]);
        }
    }
}

#endif /* HIL_NN_SIMD32 */

/* sum[k] = row k times pV for k < n_rows (see rows_groups_x256). */
static inline __attribute__((always_inline)) void rows_dot(const q7_t *pV, const q7_t *m,
                                                           uint32_t dim_vec, uint32_t n_rows,
                                                           int32_t sum[4])
{
    uint32_t c = 0;
    EACH_ROW
    for (uint32_t k = 0; k < n_rows; k++) {
        sum[k] = 0;
    }
#ifdef HIL_NN_SIMD32
    uint32_t groups = dim_vec >> 2;
    int32_t part[4];
    if (n_rows == 4u && groups > 0u) {
        /* the four-row pass does its first flush interval apart: short rows
         * then keep no running sums besides the partial ones, and gcc
         * spills nothing (the other passes do better without) */
        const uint32_t n = groups < GROUPS_PER_FLUSH ? groups : GROUPS_PER_FLUSH;
        rows_groups_x256(pV, m, dim_vec, n_rows, n, part);
        EACH_ROW
        for (uint32_t k = 0; k < n_rows; k++) {
            sum[k] = part[k] >> 8;
        }
        c = 4u * n;
        groups -= n;
    }
    while (groups > 0u) {
        const uint32_t n = groups < GROUPS_PER_FLUSH ? groups : GROUPS_PER_FLUSH;
        rows_groups_x256(pV + c, m + c, dim_vec, n_rows, n, part);
        EACH_ROW
        for (uint32_t k = 0; k < n_rows; k++) {
            sum[k] += part[k] >> 8;
        }
        c += 4u * n;
        groups -= n;
    }
#endif
    for (; c < dim_vec; c++) {
        const int32_t v = pV[c];
        EACH_ROW
        for (uint32_t k = 0; k < n_rows; k++) {
            sum[k] += m[k * dim_vec + c] * v;
        }
    }
}

/* Rows [r, r + n_rows) of the matrix into pOut. */
static inline __attribute__((always_inline)) void rows_out(const q7_t *pV, const q7_t *pM,
                                                           uint32_t dim_vec, uint32_t r,
                                                           uint32_t n_rows, uint16_t bias_shift,
                                                           uint16_t out_shift, const q7_t *bias,
                                                           q7_t *pOut)
{
    int32_t acc[4];
    rows_dot(pV, pM + r * dim_vec, dim_vec, n_rows, acc);
    /* the bias term last: the same sum as starting from it, and no
     * partial sum leaves the range the header promises */
    EACH_ROW
    for (uint32_t k = 0; k < n_rows; k++) {
        acc[k] += hil_nn_acc_init(bias[r + k], bias_shift, out_shift);
        pOut[r + k] = narrow_q7(acc[k] >> hil_nn_shift(out_shift));
    }
}

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
    uint32_t r = 0;
    for (; r + 4u <= num_of_rows; r += 4u) {
        rows_out(pV, pM, dim_vec, r, 4u, bias_shift, out_shift, bias, pOut);
    }
    /* the last one to three rows in one pass */
    switch (num_of_rows - r) {
    case 3u:
        rows_out(pV, pM, dim_vec, r, 3u, bias_shift, out_shift, bias, pOut);
        break;
    case 2u:
        rows_out(pV, pM, dim_vec, r, 2u, bias_shift, out_shift, bias, pOut);
        break;
    case 1u:
        rows_out(pV, pM, dim_vec, r, 1u, bias_shift, out_shift, bias, pOut);
        break;
    default:
        break;
    }
    return ARM_MATH_SUCCESS;
}
