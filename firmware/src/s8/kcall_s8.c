/*
 * kcall_s8.c: the s8 family's kernel calls (an image built with
 * HIL_NN_FAMILY_S8). Function ids and parameter indices are generated from
 * hil/kernels/s8.py into kcall_s8_ids.h; the parameters are the int32
 * scalars of hil.reference.s8.FUNCTIONS[f].scalars in order. The checks keep
 * every call inside its regions, so a bad call is refused, never run:
 * dimensions 1..65535, strides and dilations >= 1, offsets and the
 * activation clamp in int8 range, shifts the requantisation can take, and
 * region bytes (and the scratch the function's *_get_buffer_size asks for on
 * this core) no larger than the regions the host declared.
 */
#include <string.h>

#include "kcall_s8.h"

#define NONE 0xFFu
#define DIM_MAX 0xFFFF
#define TOO_BIG 0x100000000ull

/* p: the parameter list; P(f, name) its entry for function f. */
#define P(f, name) p[HIL_S8_P_##f##_##name]
#define IDX(f, name) HIL_S8_P_##f##_##name

static const uint8_t n_params_of[HIL_S8_FN_COUNT + 1] = {
    [HIL_S8_FN_arm_convolve_wrapper_s8] = HIL_S8_NPARAMS_arm_convolve_wrapper_s8,
    [HIL_S8_FN_arm_depthwise_conv_wrapper_s8] = HIL_S8_NPARAMS_arm_depthwise_conv_wrapper_s8,
    [HIL_S8_FN_arm_fully_connected_s8] = HIL_S8_NPARAMS_arm_fully_connected_s8,
    [HIL_S8_FN_arm_fully_connected_per_channel_s8] =
        HIL_S8_NPARAMS_arm_fully_connected_per_channel_s8,
    [HIL_S8_FN_arm_max_pool_s8] = HIL_S8_NPARAMS_arm_max_pool_s8,
    [HIL_S8_FN_arm_avgpool_s8] = HIL_S8_NPARAMS_arm_avgpool_s8,
    [HIL_S8_FN_arm_softmax_s8] = HIL_S8_NPARAMS_arm_softmax_s8,
};

/* The first of params[first..first+count) outside [lo, hi], else NONE. */
static uint8_t outside(const int32_t *p, uint8_t first, uint8_t count, int32_t lo, int32_t hi)
{
    for (uint8_t i = first; i < first + count; i++) {
        if (p[i] < lo || p[i] > hi)
            return i;
    }
    return NONE;
}

static uint64_t product(int32_t a, int32_t b, int32_t c, int32_t d)
{
    uint64_t v = (uint64_t)(uint32_t)a * (uint32_t)b; /* each factor <= DIM_MAX */
    v = v > TOO_BIG ? TOO_BIG : v * (uint32_t)c;
    v = v > TOO_BIG ? TOO_BIG : v * (uint32_t)d;
    return v > TOO_BIG ? TOO_BIG : v;
}

static cmsis_nn_dims dims(int32_t n, int32_t h, int32_t w, int32_t c)
{
    const cmsis_nn_dims d = {n, h, w, c};
    return d;
}

/* What one function needs: parameter checks done, region bytes. */
typedef struct {
    uint64_t bytes[HIL_KREGION_COUNT - 1]; /* input, weights, bias, output */
    int32_t channels;                      /* entries of each int32 array in the bias region */
    int per_channel;                       /* the bias region holds multiplier and shift too */
} need_t;

/* Checks shared by the convolutions (conv params start at 0, in the same
 * order for both); returns the refused parameter or NONE. */
static uint8_t conv_checks(const int32_t *p)
{
#define C(name) IDX(arm_convolve_wrapper_s8, name)
    uint8_t bad = outside(p, C(input_n), C(output_c) + 1, 1, DIM_MAX); /* dims and filter */
    if (bad == NONE)
        bad = outside(p, C(stride_h), 2, 1, DIM_MAX);
    if (bad == NONE)
        bad = outside(p, C(padding_h), 2, 0, DIM_MAX);
    if (bad == NONE)
        bad = outside(p, C(dilation_h), 2, 1, DIM_MAX);
    if (bad == NONE)
        bad = outside(p, C(input_offset), 1, -127, 128);
    if (bad == NONE)
        bad = outside(p, C(output_offset), 1, -128, 127);
    if (bad == NONE)
        bad = outside(p, C(activation_min), 2, -128, 127);
    if (bad == NONE && p[C(activation_min)] > p[C(activation_max)])
        bad = C(activation_min);
#undef C
    return bad;
}

static uint8_t fc_checks(const int32_t *p)
{
#define C(name) IDX(arm_fully_connected_per_channel_s8, name)
    uint8_t bad = outside(p, C(input_n), 3, 1, DIM_MAX);
    if (bad == NONE)
        bad = outside(p, C(input_offset), 1, -127, 128);
    /* CMSIS-NN's contract: weights are symmetric (its Helium kernels ignore the offset). */
    if (bad == NONE)
        bad = outside(p, C(filter_offset), 1, 0, 0);
    if (bad == NONE)
        bad = outside(p, C(output_offset), 1, -128, 127);
    if (bad == NONE)
        bad = outside(p, C(activation_min), 2, -128, 127);
    if (bad == NONE && p[C(activation_min)] > p[C(activation_max)])
        bad = C(activation_min);
#undef C
    return bad;
}

static uint8_t pool_checks(const int32_t *p)
{
#define C(name) IDX(arm_max_pool_s8, name)
    uint8_t bad = outside(p, C(input_n), C(output_w) + 1, 1, DIM_MAX);
    if (bad == NONE)
        bad = outside(p, C(stride_h), 2, 1, DIM_MAX);
    if (bad == NONE)
        bad = outside(p, C(padding_h), 2, 0, DIM_MAX);
    if (bad == NONE)
        bad = outside(p, C(activation_min), 2, -128, 127);
    if (bad == NONE && p[C(activation_min)] > p[C(activation_max)])
        bad = C(activation_min);
#undef C
    return bad;
}

_Static_assert(IDX(arm_convolve_wrapper_s8, activation_max) ==
                   IDX(arm_depthwise_conv_wrapper_s8, activation_max),
               "the depthwise parameters extend the convolution's");
_Static_assert(IDX(arm_fully_connected_s8, activation_max) ==
                   IDX(arm_fully_connected_per_channel_s8, activation_max),
               "the per-tensor parameters extend the per-channel ones");
_Static_assert(IDX(arm_max_pool_s8, activation_max) == IDX(arm_avgpool_s8, activation_max),
               "both poolings take the same parameters");

/* Parameter checks and region bytes; the refused parameter or NONE. */
static uint8_t check(uint8_t fn, const int32_t *p, need_t *n)
{
    uint8_t bad = NONE;
    n->per_channel = 1;
    switch (fn) {
    case HIL_S8_FN_arm_convolve_wrapper_s8:
#define C(name) P(arm_convolve_wrapper_s8, name)
        bad = conv_checks(p);
        n->bytes[0] = product(C(input_n), C(input_h), C(input_w), C(input_c));
        n->bytes[1] = product(C(output_c), C(filter_h), C(filter_w), C(input_c));
        n->bytes[3] = product(C(input_n), C(output_h), C(output_w), C(output_c));
        n->channels = C(output_c);
#undef C
        break;
    case HIL_S8_FN_arm_depthwise_conv_wrapper_s8:
#define C(name) P(arm_depthwise_conv_wrapper_s8, name)
        bad = conv_checks(p);
        if (bad == NONE)
            bad = outside(p, IDX(arm_depthwise_conv_wrapper_s8, ch_mult), 1, 1, DIM_MAX);
        if (bad == NONE && (int64_t)C(input_c) * C(ch_mult) != C(output_c))
            bad = IDX(arm_depthwise_conv_wrapper_s8, output_c);
        n->bytes[0] = product(C(input_n), C(input_h), C(input_w), C(input_c));
        n->bytes[1] = product(C(filter_h), C(filter_w), C(output_c), 1);
        n->bytes[3] = product(C(input_n), C(output_h), C(output_w), C(output_c));
        n->channels = C(output_c);
#undef C
        break;
    case HIL_S8_FN_arm_fully_connected_s8:
    case HIL_S8_FN_arm_fully_connected_per_channel_s8:
#define C(name) P(arm_fully_connected_per_channel_s8, name)
        bad = fc_checks(p);
        if (bad == NONE && fn == HIL_S8_FN_arm_fully_connected_s8)
            bad = outside(p, IDX(arm_fully_connected_s8, shift), 1, -31, 30);
        n->per_channel = fn == HIL_S8_FN_arm_fully_connected_per_channel_s8;
        n->bytes[0] = product(C(input_n), C(accum_depth), 1, 1);
        n->bytes[1] = product(C(output_depth), C(accum_depth), 1, 1);
        n->bytes[3] = product(C(input_n), C(output_depth), 1, 1);
        n->channels = C(output_depth);
#undef C
        break;
    case HIL_S8_FN_arm_max_pool_s8:
    case HIL_S8_FN_arm_avgpool_s8:
#define C(name) P(arm_max_pool_s8, name)
        bad = pool_checks(p);
        n->per_channel = 0;
        n->bytes[0] = product(C(input_n), C(input_h), C(input_w), C(input_c));
        n->bytes[1] = 0;
        n->bytes[3] = product(C(input_n), C(output_h), C(output_w), C(input_c));
        n->channels = 0;
#undef C
        break;
    case HIL_S8_FN_arm_softmax_s8:
#define C(name) P(arm_softmax_s8, name)
        bad = outside(p, IDX(arm_softmax_s8, num_rows), 2, 1, DIM_MAX);
        if (bad == NONE)
            bad = outside(p, IDX(arm_softmax_s8, mult), 1, 0, INT32_MAX);
        if (bad == NONE)
            bad = outside(p, IDX(arm_softmax_s8, shift), 1, 0, 31);
        if (bad == NONE)
            bad = outside(p, IDX(arm_softmax_s8, diff_min), 1, INT32_MIN, 0);
        n->per_channel = 0;
        n->bytes[0] = n->bytes[3] = product(C(num_rows), C(row_size), 1, 1);
        n->bytes[1] = 0;
        n->channels = 0;
#undef C
        break;
    }
    if (bad != NONE)
        return bad;
    n->bytes[2] = (uint64_t)(uint32_t)n->channels * 4u * (n->per_channel ? 3u : 1u);
    return NONE;
}

/* Fills the structures the call takes; p is checked. */
static void fill(hil_s8_call_t *c, const int32_t *p)
{
    switch (c->function) {
    case HIL_S8_FN_arm_convolve_wrapper_s8:
    case HIL_S8_FN_arm_depthwise_conv_wrapper_s8: {
#define C(name) P(arm_depthwise_conv_wrapper_s8, name)
        const cmsis_nn_tile stride = {C(stride_w), C(stride_h)};
        const cmsis_nn_tile padding = {C(padding_w), C(padding_h)};
        const cmsis_nn_tile dilation = {C(dilation_w), C(dilation_h)};
        const cmsis_nn_activation act = {C(activation_min), C(activation_max)};
        const cmsis_nn_conv_params conv = {C(input_offset), C(output_offset), stride, padding,
                                           dilation, act};
        c->conv = conv;
        c->input_dims = dims(C(input_n), C(input_h), C(input_w), C(input_c));
        c->output_dims = dims(C(input_n), C(output_h), C(output_w), C(output_c));
        c->bias_dims = dims(1, 1, 1, C(output_c));
        if (c->function == HIL_S8_FN_arm_depthwise_conv_wrapper_s8) {
            const cmsis_nn_dw_conv_params dw = {C(input_offset), C(output_offset), C(ch_mult),
                                                stride, padding, dilation, act};
            c->dw = dw;
            c->filter_dims = dims(1, C(filter_h), C(filter_w), C(output_c));
        } else {
            c->filter_dims = dims(C(output_c), C(filter_h), C(filter_w), C(input_c));
        }
#undef C
        break;
    }
    case HIL_S8_FN_arm_fully_connected_s8:
    case HIL_S8_FN_arm_fully_connected_per_channel_s8: {
#define C(name) P(arm_fully_connected_s8, name)
        const cmsis_nn_fc_params fc = {C(input_offset), C(filter_offset), C(output_offset),
                                       {C(activation_min), C(activation_max)}};
        c->fc = fc;
        c->input_dims = dims(C(input_n), 1, 1, C(accum_depth));
        c->filter_dims = dims(C(accum_depth), 1, 1, C(output_depth));
        c->bias_dims = dims(1, 1, 1, C(output_depth));
        c->output_dims = dims(C(input_n), 1, 1, C(output_depth));
        if (c->function == HIL_S8_FN_arm_fully_connected_s8) {
            c->per_tensor.multiplier = C(multiplier);
            c->per_tensor.shift = C(shift);
        }
#undef C
        break;
    }
    case HIL_S8_FN_arm_max_pool_s8:
    case HIL_S8_FN_arm_avgpool_s8: {
#define C(name) P(arm_avgpool_s8, name)
        const cmsis_nn_pool_params pool = {{C(stride_w), C(stride_h)},
                                           {C(padding_w), C(padding_h)},
                                           {C(activation_min), C(activation_max)}};
        c->pool = pool;
        c->input_dims = dims(C(input_n), C(input_h), C(input_w), C(input_c));
        c->filter_dims = dims(1, C(filter_h), C(filter_w), 1);
        c->output_dims = dims(C(input_n), C(output_h), C(output_w), C(input_c));
#undef C
        break;
    }
    case HIL_S8_FN_arm_softmax_s8:
#define C(name) P(arm_softmax_s8, name)
        c->num_rows = C(num_rows);
        c->row_size = C(row_size);
        c->mult = C(mult);
        c->shift = C(shift);
        c->diff_min = C(diff_min);
#undef C
        break;
    }
}

/* Scratch bytes the function asks for on this core (negative: refused). */
static int32_t scratch_bytes(const hil_s8_call_t *c)
{
    switch (c->function) {
    case HIL_S8_FN_arm_convolve_wrapper_s8:
        return arm_convolve_wrapper_s8_get_buffer_size(&c->conv, &c->input_dims, &c->filter_dims,
                                                       &c->output_dims);
    case HIL_S8_FN_arm_depthwise_conv_wrapper_s8:
        return arm_depthwise_conv_wrapper_s8_get_buffer_size(&c->dw, &c->input_dims,
                                                             &c->filter_dims, &c->output_dims);
    case HIL_S8_FN_arm_fully_connected_s8:
    case HIL_S8_FN_arm_fully_connected_per_channel_s8:
        return arm_fully_connected_s8_get_buffer_size(&c->filter_dims);
    case HIL_S8_FN_arm_avgpool_s8:
        return arm_avgpool_s8_get_buffer_size(c->output_dims.w, c->input_dims.c);
    default:
        return 0;
    }
}

int32_t hil_s8_prepare(uint8_t fn, const int32_t *p, uint8_t n_params,
                       const hil_s8_regions_t *r, uint8_t *param, hil_s8_call_t *c)
{
    *param = NONE;
    if (fn == 0 || fn > HIL_S8_FN_COUNT)
        return HIL_KSTATUS_BAD_FUNCTION;
    if (n_params != n_params_of[fn])
        return HIL_KSTATUS_BAD_PARAMS;
    need_t need;
    *param = check(fn, p, &need);
    if (*param != NONE)
        return HIL_KSTATUS_PARAM_RANGE;
    for (uint8_t i = 0; i < HIL_REGION_SCRATCH; i++) {
        if (need.bytes[i] > r->sizes[i]) {
            *param = i;
            return HIL_KSTATUS_REGION_SIZE;
        }
    }
    memset(c, 0, sizeof *c);
    c->function = fn;
    c->input = (const int8_t *)r->base[HIL_REGION_INPUT];
    c->weights = (const int8_t *)r->base[HIL_REGION_WEIGHTS];
    c->bias = (const int32_t *)(const void *)r->base[HIL_REGION_BIAS];
    c->output = (int8_t *)r->base[HIL_REGION_OUTPUT];
    if (need.per_channel) {
        c->per_channel.multiplier = (int32_t *)(void *)r->base[HIL_REGION_BIAS] + need.channels;
        c->per_channel.shift = c->per_channel.multiplier + need.channels;
        for (int32_t i = 0; i < need.channels; i++) {
            if (c->per_channel.shift[i] < -31 || c->per_channel.shift[i] > 30) {
                *param = n_params; /* a shift in the bias region */
                return HIL_KSTATUS_PARAM_RANGE;
            }
        }
    }
    fill(c, p);
    const int32_t scratch = scratch_bytes(c);
    if (scratch < 0 || (uint32_t)scratch > r->sizes[HIL_REGION_SCRATCH]) {
        *param = HIL_REGION_SCRATCH;
        return HIL_KSTATUS_REGION_SIZE;
    }
    c->ctx.buf = scratch > 0 ? r->base[HIL_REGION_SCRATCH] : NULL;
    c->ctx.size = scratch;
#if defined(ARM_MATH_MVEI) && defined(HIL_NN_BACKEND_CMSIS_NN)
    /* The genuine Helium fully connected kernels read each output's weight sum
     * (times the input offset, plus the bias) from ctx.buf, which an application
     * fills once at set-up: so here, before the timed call, as the export does
     * before each layer. hil's own kernels compute it inline. */
    if (fn == HIL_S8_FN_arm_fully_connected_s8 ||
        fn == HIL_S8_FN_arm_fully_connected_per_channel_s8) {
        arm_cmsis_nn_status sums = arm_vector_sum_s8(
            (int32_t *)c->ctx.buf, c->filter_dims.n, c->output_dims.c, c->weights,
            c->fc.input_offset, c->fc.filter_offset, c->bias);
        if (sums != ARM_CMSIS_NN_SUCCESS)
            return sums;
    }
#endif
    return HIL_KSTATUS_SUCCESS;
}

int32_t hil_s8_call(const hil_s8_call_t *c)
{
    switch (c->function) {
    case HIL_S8_FN_arm_convolve_wrapper_s8:
        return arm_convolve_wrapper_s8(&c->ctx, &c->conv, &c->per_channel, &c->input_dims,
                                       c->input, &c->filter_dims, c->weights, &c->bias_dims,
                                       c->bias, &c->output_dims, c->output);
    case HIL_S8_FN_arm_depthwise_conv_wrapper_s8:
        return arm_depthwise_conv_wrapper_s8(&c->ctx, &c->dw, &c->per_channel, &c->input_dims,
                                             c->input, &c->filter_dims, c->weights,
                                             &c->bias_dims, c->bias, &c->output_dims, c->output);
    case HIL_S8_FN_arm_fully_connected_s8:
        return arm_fully_connected_s8(&c->ctx, &c->fc, &c->per_tensor, &c->input_dims, c->input,
                                      &c->filter_dims, c->weights, &c->bias_dims, c->bias,
                                      &c->output_dims, c->output);
    case HIL_S8_FN_arm_fully_connected_per_channel_s8:
        return arm_fully_connected_per_channel_s8(&c->ctx, &c->fc, &c->per_channel,
                                                  &c->input_dims, c->input, &c->filter_dims,
                                                  c->weights, &c->bias_dims, c->bias,
                                                  &c->output_dims, c->output);
    case HIL_S8_FN_arm_max_pool_s8:
        return arm_max_pool_s8(&c->ctx, &c->pool, &c->input_dims, c->input, &c->filter_dims,
                               &c->output_dims, c->output);
    case HIL_S8_FN_arm_avgpool_s8:
        return arm_avgpool_s8(&c->ctx, &c->pool, &c->input_dims, c->input, &c->filter_dims,
                              &c->output_dims, c->output);
    case HIL_S8_FN_arm_softmax_s8:
        arm_softmax_s8(c->input, c->num_rows, c->row_size, c->mult, c->shift, c->diff_min,
                       c->output);
        return HIL_KSTATUS_SUCCESS;
    default:
        return HIL_KSTATUS_BAD_FUNCTION;
    }
}
