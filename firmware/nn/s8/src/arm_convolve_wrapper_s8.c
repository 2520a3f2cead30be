/*
 * arm_convolve_wrapper_s8: s8 convolution.
 *
 * The fast path treats the convolution as a matrix product: each output
 * position's receptive field is one column of C_IN * HK * WK int8 values
 * (copied into ctx->buf by im2col, or read in place for a 1x1 filter), and
 * HIL_S8_COLS columns at a time meet each filter row (hil_s8_dot_cols).
 * Padding taps hold -input_offset, so (x + input_offset) * w is 0 there and
 * acc = bias + dot + input_offset * sum(w) over the whole window, in
 * wrapping int32, equals TFLite Micro's sum over the in-bounds taps.
 *
 * Grouped convolution (filter_dims->c input channels per group, C_OUT /
 * groups filters per group, as in TFLite Micro), a call without scratch
 * and an input offset whose negation is no int8 take the direct path.
 */
#include "hil_nn_s8_internal.h"

/* Everything a column and its outputs need, gathered once per call. */
typedef struct
{
    int32_t in_h, in_w, in_c;
    int32_t f_h, f_w;
    int32_t out_h, out_w, out_c;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t dil_h, dil_w;
    int32_t depth; /* values per column: f_h * f_w * in_c */
    int32_t input_offset, output_offset, act_min, act_max;
    const int32_t *mult, *shift, *bias;
    const int8_t *filter;
} hil_s8_conv;

static void conv_direct(const hil_s8_conv *c,
                        int32_t batches,
                        int32_t f_c,
                        const int8_t *input_data,
                        int8_t *output_data)
{
    const int32_t per_group = c->out_c / (c->in_c / f_c);
    for (int32_t n = 0; n < batches; n++)
    {
        const int8_t *in_batch = input_data + (size_t)n * c->in_h * c->in_w * c->in_c;
        for (int32_t oy = 0; oy < c->out_h; oy++)
        {
            const int32_t y0 = oy * c->stride_h - c->pad_h;
            for (int32_t ox = 0; ox < c->out_w; ox++)
            {
                const int32_t x0 = ox * c->stride_w - c->pad_w;
                for (int32_t oc = 0; oc < c->out_c; oc++)
                {
                    const int8_t *in_group = in_batch + (oc / per_group) * f_c;
                    const int8_t *filter = c->filter + (size_t)oc * c->f_h * c->f_w * f_c;
                    int32_t acc = c->bias != NULL ? c->bias[oc] : 0;
                    for (int32_t ky = 0; ky < c->f_h; ky++)
                    {
                        const int32_t iy = y0 + ky * c->dil_h;
                        if (iy < 0 || iy >= c->in_h)
                        {
                            continue;
                        }
                        for (int32_t kx = 0; kx < c->f_w; kx++)
                        {
                            const int32_t ix = x0 + kx * c->dil_w;
                            if (ix < 0 || ix >= c->in_w)
                            {
                                continue;
                            }
                            int32_t sum_w;
                            const int32_t dot = hil_s8_dot(in_group + ((size_t)iy * c->in_w + ix) * c->in_c,
                                                           filter + ((size_t)ky * c->f_w + kx) * f_c,
                                                           f_c,
                                                           &sum_w);
                            acc = hil_s8_wrap_add(acc, hil_s8_wrap_add(dot, hil_s8_wrap_mul(c->input_offset, sum_w)));
                        }
                    }
                    *output_data++ =
                        hil_s8_output(acc, c->mult[oc], c->shift[oc], c->output_offset, c->act_min, c->act_max);
                }
            }
        }
    }
}

/* Count of kx in [0, f_w) whose tap x0 + kx lies left of the input,
 * and the end of those inside it (dilation 1). */
static void row_span(const hil_s8_conv *c, int32_t x0, int32_t *first, int32_t *end)
{
    const int32_t left = x0 < 0 ? -x0 : 0;
    const int32_t right = c->in_w - x0;
    *first = left < c->f_w ? left : c->f_w;
    *end = right < *first ? *first : (right < c->f_w ? right : c->f_w);
}

/* One output position's receptive field, [ky][kx][c] as the filter rows
 * are laid out, padding taps set to pad. */
static void im2col(const hil_s8_conv *c, const int8_t *in, int32_t oy, int32_t ox, int8_t pad, int8_t *col)
{
    const int32_t y0 = oy * c->stride_h - c->pad_h;
    const int32_t x0 = ox * c->stride_w - c->pad_w;
    const int32_t tap = c->in_c;
    const int32_t row_len = c->f_w * tap;
    for (int32_t ky = 0; ky < c->f_h; ky++, col += row_len)
    {
        const int32_t iy = y0 + ky * c->dil_h;
        if (iy < 0 || iy >= c->in_h)
        {
            hil_s8_fill(col, pad, row_len);
            continue;
        }
        const int8_t *in_row = in + (size_t)iy * c->in_w * tap;
        if (c->dil_w == 1)
        {
            /* Undilated, the in-bounds taps of a row are one contiguous run. */
            int32_t first;
            int32_t end;
            row_span(c, x0, &first, &end);
            if (first > 0)
            {
                hil_s8_fill(col, pad, first * tap);
            }
            hil_s8_copy(col + first * tap, in_row + (x0 + first) * tap, (end - first) * tap);
            if (end < c->f_w)
            {
                hil_s8_fill(col + end * tap, pad, (c->f_w - end) * tap);
            }
            continue;
        }
        for (int32_t kx = 0; kx < c->f_w; kx++)
        {
            const int32_t ix = x0 + kx * c->dil_w;
            if (ix < 0 || ix >= c->in_w)
            {
                hil_s8_fill(col + kx * tap, pad, tap);
            }
            else
            {
                hil_s8_copy(col + kx * tap, in_row + ix * tap, tap);
            }
        }
    }
}

/* Every output channel of count (<= HIL_S8_COLS) consecutive positions;
 * unused column slots repeat col[0] and their results are dropped. */
static void conv_columns(const hil_s8_conv *c, const int8_t *col[HIL_S8_COLS], int32_t count, int8_t *out)
{
    for (int32_t j = count; j < HIL_S8_COLS; j++)
    {
        col[j] = col[0];
    }
    const int8_t *filter = c->filter;
    for (int32_t oc = 0; oc < c->out_c; oc++, filter += c->depth)
    {
        int32_t dot[HIL_S8_COLS];
        int32_t sum_w;
        hil_s8_dot_cols(filter, col, c->depth, dot, &sum_w);
        const int32_t base = hil_s8_wrap_add(c->bias != NULL ? c->bias[oc] : 0, hil_s8_wrap_mul(c->input_offset, sum_w));
        for (int32_t j = 0; j < HIL_S8_COLS; j++)
        {
            dot[j] = hil_s8_wrap_add(base, dot[j]);
        }
        hil_s8_output_cols(
            dot, count, c->mult[oc], c->shift[oc], c->output_offset, c->act_min, c->act_max, out + oc, c->out_c);
    }
}

/* A 1x1 filter over an unpadded input reads each column in place. */
static int reads_in_place(const hil_s8_conv *c)
{
    return c->f_h == 1 && c->f_w == 1 && c->pad_h == 0 && c->pad_w == 0 &&
        (c->out_h - 1) * c->stride_h < c->in_h && (c->out_w - 1) * c->stride_w < c->in_w;
}

/* slots: im2col columns that fit in the scratch (unused when reading in place). */
static void conv_gemm(const hil_s8_conv *c, int32_t batches, int32_t slots, const int8_t *input, int8_t *buf, int8_t *out)
{
    const int in_place = reads_in_place(c);
    const int8_t pad = (int8_t)(-c->input_offset);
    const int32_t group = in_place ? HIL_S8_COLS : slots;
    for (int32_t n = 0; n < batches; n++)
    {
        const int8_t *in = input + (size_t)n * c->in_h * c->in_w * c->in_c;
        const int8_t *col[HIL_S8_COLS];
        int32_t count = 0;
        for (int32_t oy = 0; oy < c->out_h; oy++)
        {
            for (int32_t ox = 0; ox < c->out_w; ox++)
            {
                if (in_place)
                {
                    col[count] = in + ((size_t)oy * c->stride_h * c->in_w + (size_t)ox * c->stride_w) * c->in_c;
                }
                else
                {
                    int8_t *slot = buf + (size_t)count * c->depth;
                    im2col(c, in, oy, ox, pad, slot);
                    col[count] = slot;
                }
                if (++count == group)
                {
                    conv_columns(c, col, count, out);
                    out += (size_t)count * c->out_c;
                    count = 0;
                }
            }
        }
        if (count > 0)
        {
            conv_columns(c, col, count, out);
            out += (size_t)count * c->out_c;
        }
    }
}

arm_cmsis_nn_status arm_convolve_wrapper_s8(const cmsis_nn_context *ctx,
                                            const cmsis_nn_conv_params *conv_params,
                                            const cmsis_nn_per_channel_quant_params *quant_params,
                                            const cmsis_nn_dims *input_dims,
                                            const int8_t *input_data,
                                            const cmsis_nn_dims *filter_dims,
                                            const int8_t *filter_data,
                                            const cmsis_nn_dims *bias_dims,
                                            const int32_t *bias_data,
                                            const cmsis_nn_dims *output_dims,
                                            int8_t *output_data)
{
    (void)bias_dims;
    const int32_t f_c = filter_dims->c;
    const hil_s8_conv c = {
        .in_h = input_dims->h,
        .in_w = input_dims->w,
        .in_c = input_dims->c,
        .f_h = filter_dims->h,
        .f_w = filter_dims->w,
        .out_h = output_dims->h,
        .out_w = output_dims->w,
        .out_c = output_dims->c,
        .stride_h = conv_params->stride.h,
        .stride_w = conv_params->stride.w,
        .pad_h = conv_params->padding.h,
        .pad_w = conv_params->padding.w,
        .dil_h = conv_params->dilation.h,
        .dil_w = conv_params->dilation.w,
        .depth = filter_dims->h * filter_dims->w * f_c,
        .input_offset = conv_params->input_offset,
        .output_offset = conv_params->output_offset,
        .act_min = conv_params->activation.min,
        .act_max = conv_params->activation.max,
        .mult = quant_params->multiplier,
        .shift = quant_params->shift,
        .bias = bias_data,
        .filter = filter_data,
    };

    if (f_c < 1 || c.in_c % f_c != 0 || c.stride_h < 1 || c.stride_w < 1 || c.dil_h < 1 || c.dil_w < 1)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    if (c.out_c % (c.in_c / f_c) != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }

    /* The caller owes us arm_convolve_wrapper_s8_get_buffer_size bytes: as
     * many columns as fit there, at most HIL_S8_COLS. */
    int32_t slots = 0;
    if (ctx != NULL && ctx->buf != NULL && c.depth > 0)
    {
        slots = arm_convolve_wrapper_s8_get_buffer_size(conv_params, input_dims, filter_dims, output_dims) / c.depth;
        slots = slots < HIL_S8_COLS ? slots : HIL_S8_COLS;
    }
    const int pad_is_int8 = c.input_offset >= -INT8_MAX && c.input_offset <= -INT8_MIN;
    const int grouped = f_c != c.in_c;
    if (!grouped && (reads_in_place(&c) || (slots > 0 && pad_is_int8)))
    {
        conv_gemm(&c, input_dims->n, slots, input_data, ctx != NULL ? (int8_t *)ctx->buf : NULL, output_data);
    }
    else
    {
        conv_direct(&c, input_dims->n, f_c, input_data, output_data);
    }
    return ARM_CMSIS_NN_SUCCESS;
}
