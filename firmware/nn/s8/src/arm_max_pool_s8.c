/* arm_max_pool_s8: s8 max pooling over the in-bounds taps of each window.
 * Channels are innermost in NHWC, so each tap is a contiguous row of
 * channels, maxed into the output row whole (on Helium 16 at a time). */
#include "hil_nn_s8_internal.h"

/* out[c] = max(out[c], row[c]) for c < n. */
static void max_into(int8_t *out, const int8_t *row, int32_t n)
{
    int32_t c = 0;
#if defined(ARM_MATH_MVEI)
    for (; c < n; c += 16)
    {
        const mve_pred16_t p = vctp8q((uint32_t)(n - c));
        vstrbq_p_s8(out + c, vmaxq_s8(vldrbq_z_s8(out + c, p), vldrbq_z_s8(row + c, p)), p);
    }
#endif
    for (; c < n; c++)
    {
        out[c] = row[c] > out[c] ? row[c] : out[c];
    }
}

/* out[c] = clamp(out[c], lo, hi) for c < n. */
static void clamp_row(int8_t *out, int32_t n, int32_t lo, int32_t hi)
{
    int32_t c = 0;
#if defined(ARM_MATH_MVEI)
    const int8x16_t vlo = vdupq_n_s8((int8_t)lo);
    const int8x16_t vhi = vdupq_n_s8((int8_t)hi);
    for (; c < n; c += 16)
    {
        const mve_pred16_t p = vctp8q((uint32_t)(n - c));
        vstrbq_p_s8(out + c, vminq_s8(vmaxq_s8(vldrbq_z_s8(out + c, p), vlo), vhi), p);
    }
#endif
    for (; c < n; c++)
    {
        const int32_t v = out[c] < lo ? lo : out[c];
        out[c] = (int8_t)(v > hi ? hi : v);
    }
}

arm_cmsis_nn_status arm_max_pool_s8(const cmsis_nn_context *ctx,
                                    const cmsis_nn_pool_params *pool_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data)
{
    (void)ctx;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t ch = input_dims->c;
    const int32_t act_min = pool_params->activation.min;
    const int32_t act_max = pool_params->activation.max;
    if (input_dims->n < 1)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    for (int32_t n = 0; n < input_dims->n; n++)
    {
        const int8_t *in = input_data + (size_t)n * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++)
        {
            int32_t y_start;
            int32_t y_stop;
            hil_s8_span(oy, pool_params->stride.h, pool_params->padding.h, filter_dims->h, in_h, &y_start, &y_stop);
            for (int32_t ox = 0; ox < output_dims->w; ox++)
            {
                int32_t x_start;
                int32_t x_stop;
                hil_s8_span(
                    ox, pool_params->stride.w, pool_params->padding.w, filter_dims->w, in_w, &x_start, &x_stop);
                if (y_start < y_stop && x_start < x_stop)
                {
                    /* The first tap seeds the maximum, the others join it. */
                    hil_s8_copy(output_data, in + ((size_t)y_start * in_w + x_start) * ch, ch);
                    for (int32_t y = y_start; y < y_stop; y++)
                    {
                        for (int32_t x = y == y_start ? x_start + 1 : x_start; x < x_stop; x++)
                        {
                            max_into(output_data, in + ((size_t)y * in_w + x) * ch, ch);
                        }
                    }
                }
                else
                {
                    /* No tap in bounds: INT8_MIN, clamped. */
                    hil_s8_fill(output_data, INT8_MIN, ch);
                }
                clamp_row(output_data, ch, act_min, act_max);
                output_data += ch;
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
