/*
 * The fully connected layer shared by arm_fully_connected_s8 and
 * arm_fully_connected_per_channel_s8. Its dot products are functions of
 * their own, not inlined into the loop over outputs: the compiler then
 * keeps every pointer and accumulator of the inner loop in a register.
 */
#include "hil_nn_s8_internal.h"

#if !defined(ARM_MATH_MVEI)
/* dot_rows for two rows, so each x value is loaded once for both. */
static void dot_rows2(
    const int8_t *x, int32_t io, const int8_t *r0, const int8_t *r1, int32_t n, int32_t *acc0, int32_t *acc1)
{
    int32_t d0 = 0;
    int32_t d1 = 0;
    int32_t k = 0;
#if defined(ARM_MATH_DSP)
    /* SMLAD takes int8 only sign-extended, so the offset comes in as
     * io * sum(w) at the end, each row's weight sum taken beside its dot. */
    const int32_t ones = 0x00010001;
    int32_t s0 = 0;
    int32_t s1 = 0;
    for (; k + 4 <= n; k += 4, x += 4, r0 += 4, r1 += 4)
    {
        uint32_t wx;
        memcpy(&wx, x, 4);
        const int32_t x02 = __sxtb16((int32_t)wx);
        const int32_t x13 = __sxtb16((int32_t)(wx >> 8));
        uint32_t w0;
        uint32_t w1;
        memcpy(&w0, r0, 4);
        memcpy(&w1, r1, 4);
        const int32_t w0_02 = __sxtb16((int32_t)w0);
        const int32_t w0_13 = __sxtb16((int32_t)(w0 >> 8));
        const int32_t w1_02 = __sxtb16((int32_t)w1);
        const int32_t w1_13 = __sxtb16((int32_t)(w1 >> 8));
        d0 = __smlad(x13, w0_13, __smlad(x02, w0_02, d0));
        d1 = __smlad(x13, w1_13, __smlad(x02, w1_02, d1));
        s0 = __smlad(w0_13, ones, __smlad(w0_02, ones, s0));
        s1 = __smlad(w1_13, ones, __smlad(w1_02, ones, s1));
    }
    d0 = hil_s8_wrap_add(d0, hil_s8_wrap_mul(io, s0));
    d1 = hil_s8_wrap_add(d1, hil_s8_wrap_mul(io, s1));
#endif
    /* In plain C the offset joins x directly: (x + io) fits any int32 product. */
    for (; k < n; k++, x++, r0++, r1++)
    {
        const int32_t xk = *x + io;
        d0 = hil_s8_wrap_add(d0, xk * *r0);
        d1 = hil_s8_wrap_add(d1, xk * *r1);
    }
    *acc0 = d0;
    *acc1 = d1;
}
#endif

/*
 * One input vector against HIL_S8_COLS weight rows of n values (a fully
 * connected layer's four outputs at once):
 * acc[j] = sum((x[k] + io) * row[j][k]), wrapping mod 2^32.
 */
static void dot_rows(
    const int8_t *x, int32_t io, const int8_t *const row[HIL_S8_COLS], int32_t n, int32_t acc[HIL_S8_COLS])
{
#if defined(ARM_MATH_MVEI)
    /* VMLADAVA takes int8 only, so the offset comes in as io * sum(w). */
    int32_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const int8_t *r0 = row[0];
    const int8_t *r1 = row[1];
    const int8_t *r2 = row[2];
    const int8_t *r3 = row[3];
    int32_t k = 0;
    /* Whole vectors unpredicated, then one predicated tail, as in hil_s8_dot_cols. */
    for (; k + 16 <= n; k += 16, x += 16, r0 += 16, r1 += 16, r2 += 16, r3 += 16)
    {
        const int8x16_t vx = vldrbq_s8(x);
        const int8x16_t v0 = vldrbq_s8(r0);
        const int8x16_t v1 = vldrbq_s8(r1);
        const int8x16_t v2 = vldrbq_s8(r2);
        const int8x16_t v3 = vldrbq_s8(r3);
        d0 = vmladavaq_s8(d0, vx, v0);
        d1 = vmladavaq_s8(d1, vx, v1);
        d2 = vmladavaq_s8(d2, vx, v2);
        d3 = vmladavaq_s8(d3, vx, v3);
        s0 = vaddvaq_s8(s0, v0);
        s1 = vaddvaq_s8(s1, v1);
        s2 = vaddvaq_s8(s2, v2);
        s3 = vaddvaq_s8(s3, v3);
    }
    if (k < n)
    {
        /* Zeroing loads make the tail lanes add nothing. */
        const mve_pred16_t p = vctp8q((uint32_t)(n - k));
        const int8x16_t vx = vldrbq_z_s8(x, p);
        const int8x16_t v0 = vldrbq_z_s8(r0, p);
        const int8x16_t v1 = vldrbq_z_s8(r1, p);
        const int8x16_t v2 = vldrbq_z_s8(r2, p);
        const int8x16_t v3 = vldrbq_z_s8(r3, p);
        d0 = vmladavaq_s8(d0, vx, v0);
        d1 = vmladavaq_s8(d1, vx, v1);
        d2 = vmladavaq_s8(d2, vx, v2);
        d3 = vmladavaq_s8(d3, vx, v3);
        s0 = vaddvaq_s8(s0, v0);
        s1 = vaddvaq_s8(s1, v1);
        s2 = vaddvaq_s8(s2, v2);
        s3 = vaddvaq_s8(s3, v3);
    }
    acc[0] = hil_s8_wrap_add(d0, hil_s8_wrap_mul(io, s0));
    acc[1] = hil_s8_wrap_add(d1, hil_s8_wrap_mul(io, s1));
    acc[2] = hil_s8_wrap_add(d2, hil_s8_wrap_mul(io, s2));
    acc[3] = hil_s8_wrap_add(d3, hil_s8_wrap_mul(io, s3));
#else
    dot_rows2(x, io, row[0], row[1], n, &acc[0], &acc[1]);
    dot_rows2(x, io, row[2], row[3], n, &acc[2], &acc[3]);
#endif
}

/*
 * Fully connected, shared by the per-tensor and per-channel entry points:
 * mult and shift hold one value (step 0) or one per output (step 1).
 * acc = bias + sum((x + io) * (w + fo)), expanded as
 * sum((x + io) * w) + fo * (sum_x + depth * io) in wrapping int32.
 */
arm_cmsis_nn_status hil_s8_fully_connected(const cmsis_nn_fc_params *fc,
                                           const int32_t *mult,
                                           const int32_t *shift,
                                           int32_t step,
                                           const cmsis_nn_dims *input_dims,
                                           const int8_t *input,
                                           const cmsis_nn_dims *filter_dims,
                                           const int8_t *weights,
                                           const int32_t *bias,
                                           const cmsis_nn_dims *output_dims,
                                           int8_t *output)
{
    const int32_t depth = filter_dims->n;
    const int32_t outputs = output_dims->c;
    const int32_t io = fc->input_offset;
    const int32_t fo = fc->filter_offset;
    if (input_dims->n < 1)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    for (int32_t n = 0; n < input_dims->n; n++)
    {
        const int8_t *x = input + (size_t)n * depth;
        int32_t sum_x = 0;
        for (int32_t k = 0; k < depth; k++)
        {
            sum_x = hil_s8_wrap_add(sum_x, x[k]);
        }
        const int32_t row_const =
            hil_s8_wrap_add(hil_s8_wrap_mul(fo, sum_x), hil_s8_wrap_mul(hil_s8_wrap_mul(depth, io), fo));
        for (int32_t o0 = 0; o0 < outputs; o0 += HIL_S8_COLS)
        {
            /* Four outputs share each load of x; past the last output the
             * spare rows repeat the first and their results are dropped. */
            const int32_t count = outputs - o0 < HIL_S8_COLS ? outputs - o0 : HIL_S8_COLS;
            const int8_t *row[HIL_S8_COLS];
            for (int32_t j = 0; j < HIL_S8_COLS; j++)
            {
                row[j] = weights + (size_t)(o0 + (j < count ? j : 0)) * depth;
            }
            int32_t dot[HIL_S8_COLS];
            dot_rows(x, io, row, depth, dot);
            for (int32_t j = 0; j < count; j++)
            {
                const int32_t o = o0 + j;
                int32_t acc = bias != NULL ? bias[o] : 0;
                acc = hil_s8_wrap_add(acc, dot[j]);
                acc = hil_s8_wrap_add(acc, row_const);
                *output++ = hil_s8_output(
                    acc, mult[o * step], shift[o * step], fc->output_offset, fc->activation.min, fc->activation.max);
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

