/*
 * kcheck.c: a KERNEL_RUN's scalar parameters and arena regions, checked on
 * the device before the call. The parameter rules are those of
 * hil/reference/validation.py, applied in the same order, so the refused
 * parameter is the one the host would name. Region sizes follow
 * hil/reference/spec.py; scratch sizes are the genuine library's contract
 * (arm_nnfunctions.h), so an image built against it is covered too.
 *
 * The layer runner does not call it: its calls and buffers come from tables
 * the host generated after validating every layer and planning the arena,
 * so a check per layer would only repeat those checks on every inference.
 */
#include "hil_fw.h"

#define U16 0xFFFFu
#define NONE 0xFFu          /* no parameter: a factor of 1 in a size */
#define TOO_BIG 0x100000000ull /* any size past a uint32_t region */

enum op {
    END,
    RANGE,     /* lo <= p[a] <= hi */
    LESS,      /* p[a] < p[b]: padding smaller than the kernel */
    NOT_ABOVE, /* p[a] <= p[b]: pooled size within the image */
    SAME,      /* p[a] == p[b] */
    MULTIPLE,  /* p[a] % lo == 0 */
    FAST_AXIS, /* a dim_in, b kernel, c padding, d stride, e dim_out: interior windows */
    POOL_LAST, /* a dim_in, c padding, d stride, e dim_out: last window overlaps the image */
};

typedef struct {
    uint8_t op, a, b, c, d, e;
    uint16_t lo, hi;
} rule_t;

#define R(i, l, h) { RANGE, i, 0, 0, 0, 0, l, h }
#define POS(i) R(i, 1, U16)
#define SHIFTS(bias, out) R(out, 0, 30), R(bias, 0, 24) /* 1 << 31; bias << shift in int32 */
#define PAIR(op, a, b) { op, a, b, 0, 0, 0, 0, 0 }
#define MULT(a, m) { MULTIPLE, a, 0, 0, 0, 0, m, 0 }
#define AXIS(op, din, k, pad, s, dout) { op, din, k, pad, s, dout, 0, 0 }
#define DONE PAIR(END, 0, 0)

/* Square convolution: dim_im_in ch_im_in ch_im_out dim_kernel padding stride
 * bias_shift out_shift dim_im_out. */
static const rule_t sq_conv[] = {
    POS(0), POS(3), POS(5), POS(8), PAIR(LESS, 4, 3), POS(1), POS(2), SHIFTS(6, 7), DONE,
};
static const rule_t sq_fast[] = {
    MULT(1, 4), MULT(2, 2), AXIS(FAST_AXIS, 0, 3, 4, 5, 8), DONE,
};
static const rule_t sq_rgb[] = { R(1, 3, 3), DONE };
static const rule_t sq_depthwise[] = { PAIR(SAME, 2, 1), DONE };

/* Non-square: dim_im_in_x dim_im_in_y ch_im_in ch_im_out dim_kernel_x
 * dim_kernel_y padding_x padding_y stride_x stride_y bias_shift out_shift
 * dim_im_out_x dim_im_out_y. */
static const rule_t ns_conv[] = {
    POS(0), POS(4), POS(8), POS(12), PAIR(LESS, 6, 4),
    POS(1), POS(5), POS(9), POS(13), PAIR(LESS, 7, 5),
    POS(2), POS(3), SHIFTS(10, 11), DONE,
};
static const rule_t ns_fast[] = {
    MULT(2, 4), MULT(3, 2),
    AXIS(FAST_AXIS, 0, 4, 6, 8, 12), AXIS(FAST_AXIS, 1, 5, 7, 9, 13), DONE,
};
static const rule_t ns_1x1[] = {
    R(4, 1, 1), R(5, 1, 1), R(6, 0, 0), R(7, 0, 0), R(8, 1, 1), R(9, 1, 1), DONE,
};
static const rule_t ns_depthwise[] = { PAIR(SAME, 3, 2), DONE };

/* Pooling: dim_im_in ch_im_in dim_kernel padding stride dim_im_out. The DSP
 * path works in place on the input's rows: within the input region exactly
 * when dim_im_out <= dim_im_in and every window overlaps the image. */
static const rule_t pool[] = {
    POS(0), POS(2), POS(4), POS(5), PAIR(LESS, 3, 2), POS(1),
    PAIR(NOT_ABOVE, 5, 0), AXIS(POOL_LAST, 0, 0, 3, 4, 5), DONE,
};
static const rule_t avepool[] = { R(2, 1, 255), DONE }; /* int16 window sums */

/* Fully connected: dim_vec num_of_rows bias_shift out_shift. */
static const rule_t fc[] = { POS(0), POS(1), SHIFTS(2, 3), DONE };
static const rule_t softmax[] = { R(0, 1, 32767), DONE }; /* int16 loop index */
/* Activation: size int_width type. */
static const rule_t activation[] = { R(1, 0, 3), R(2, 0, 1), DONE };

/* A region's bytes: coef * p[i0] * p[i1] * p[i2] * p[i3] (NONE = 1). */
typedef struct {
    uint8_t coef, i[4];
} factors_t;

#define SZ(k, a, b, c, d) { k, { a, b, c, d } }
#define NO_REGION SZ(0, NONE, NONE, NONE, NONE)
#define VEC(i) SZ(1, i, NONE, NONE, NONE)

typedef struct {
    uint8_t n_params;
    uint8_t enum_param; /* the one parameter that is not a uint16_t (or NONE) */
    uint8_t overread;   /* bytes the kernel reads past its input */
    const rule_t *rules[3];
    factors_t size[HIL_KREGION_COUNT]; /* input, weights, bias, output, scratch */
} kdesc_t;

#define SQ_SIZES(weights, scratch) \
    { SZ(1, 0, 0, 1, NONE), weights, VEC(2), SZ(1, 8, 8, 2, NONE), scratch }
#define SQ_WEIGHTS SZ(1, 2, 3, 3, 1)
#define SQ_SCRATCH SZ(4, 1, 3, 3, NONE) /* 2*ch_im_in*dim_kernel^2 q15 */
#define NS_SIZES(weights, scratch) \
    { SZ(1, 0, 1, 2, NONE), weights, VEC(3), SZ(1, 12, 13, 3, NONE), scratch }
#define NS_WEIGHTS SZ(1, 3, 4, 5, 2)
#define NS_SCRATCH SZ(4, 2, 4, 5, NONE)
#define POOL_SIZES(scratch) \
    { SZ(1, 0, 0, 1, NONE), NO_REGION, NO_REGION, SZ(1, 5, 5, 1, NONE), scratch }
#define FC_SIZES { VEC(0), SZ(1, 0, 1, NONE, NONE), VEC(1), VEC(1), SZ(2, 0, NONE, NONE, NONE) }
#define IN_OUT(n) { VEC(n), NO_REGION, NO_REGION, VEC(n), NO_REGION }

#define FN(name) [HIL_FN_##name] = { HIL_FN_NPARAMS_##name
static const kdesc_t kernels[HIL_FN_COUNT + 1] = {
    FN(arm_convolve_HWC_q7_basic), NONE, 0, { sq_conv }, SQ_SIZES(SQ_WEIGHTS, SQ_SCRATCH) },
    FN(arm_convolve_HWC_q7_fast), NONE, 0, { sq_conv, sq_fast },
        SQ_SIZES(SQ_WEIGHTS, SQ_SCRATCH) },
    /* Copies each 3-byte pixel with a 4-byte read: one byte past the last. */
    FN(arm_convolve_HWC_q7_RGB), NONE, 1, { sq_conv, sq_rgb },
        SQ_SIZES(SQ_WEIGHTS, SZ(12, 3, 3, NONE, NONE)) },
    FN(arm_convolve_HWC_q7_basic_nonsquare), NONE, 0, { ns_conv },
        NS_SIZES(NS_WEIGHTS, NS_SCRATCH) },
    FN(arm_convolve_HWC_q7_fast_nonsquare), NONE, 0, { ns_conv, ns_fast },
        NS_SIZES(NS_WEIGHTS, NS_SCRATCH) },
    FN(arm_convolve_1x1_HWC_q7_fast_nonsquare), NONE, 0, { ns_1x1, ns_conv, ns_fast },
        NS_SIZES(NS_WEIGHTS, SZ(4, 2, NONE, NONE, NONE)) },
    FN(arm_depthwise_separable_conv_HWC_q7), NONE, 0, { sq_conv, sq_depthwise },
        SQ_SIZES(SZ(1, 3, 3, 1, NONE), SQ_SCRATCH) },
    FN(arm_depthwise_separable_conv_HWC_q7_nonsquare), NONE, 0, { ns_conv, ns_depthwise },
        NS_SIZES(SZ(1, 4, 5, 2, NONE), NS_SCRATCH) },
    FN(arm_relu_q7), NONE, 0, { NULL }, IN_OUT(0) },
    FN(arm_maxpool_q7_HWC), NONE, 0, { pool }, POOL_SIZES(NO_REGION) },
    FN(arm_avepool_q7_HWC), NONE, 0, { pool, avepool }, POOL_SIZES(SZ(2, 5, 1, NONE, NONE)) },
    FN(arm_fully_connected_q7), NONE, 0, { fc }, FC_SIZES },
    FN(arm_fully_connected_q7_opt), NONE, 0, { fc }, FC_SIZES },
    FN(arm_softmax_q7), NONE, 0, { softmax }, IN_OUT(0) },
    FN(arm_nn_activations_direct_q7), 2, 0, { activation }, IN_OUT(0) },
};

/* Floor division, as Python's // in validation.formula_out. */
static int32_t floor_div(int32_t a, int32_t b)
{
    return a / b - (a % b != 0 && a < 0);
}

/* Index of the refused parameter, or NONE. Parameters are already uint16,
 * so only the pooling product needs more than 32 bits. */
static uint8_t broken_rule(const rule_t *r, const int32_t *p)
{
    for (; r->op != END; r++) {
        const int32_t a = p[r->a], b = p[r->b], pad = p[r->c], s = p[r->d], out = p[r->e];
        switch (r->op) {
        case RANGE:
            if (a < r->lo || a > r->hi)
                return r->a;
            break;
        case LESS:
            if (a >= b)
                return r->a;
            break;
        case NOT_ABOVE:
            if (a > b)
                return r->a;
            break;
        case SAME:
            if (a != b)
                return r->a;
            break;
        case MULTIPLE:
            if (a % r->lo != 0)
                return r->a;
            break;
        case FAST_AXIS:
            if (out > floor_div(a + 2 * pad - b, s) + 1)
                return r->e;
            if (pad > out)
                return r->c;
            break;
        case POOL_LAST:
            if ((int64_t)(out - 1) * s - pad >= a)
                return r->e;
            break;
        }
    }
    return NONE;
}

/* Bytes of one region; anything past a uint32_t is TOO_BIG. */
static uint64_t region_bytes(const factors_t *t, const int32_t *p)
{
    uint64_t v = t->coef;
    for (int k = 0; k < 4 && v != 0; k++) {
        if (t->i[k] != NONE)
            v *= (uint32_t)p[t->i[k]];
        if (v > TOO_BIG)
            v = TOO_BIG;
    }
    return v;
}

int32_t hil_kernel_check(uint8_t function, const int32_t *params, uint8_t n_params,
                         const uint32_t sizes[HIL_KREGION_COUNT], uint8_t *param)
{
    *param = NONE;
    if (function == 0 || function > HIL_FN_COUNT)
        return HIL_KSTATUS_BAD_FUNCTION;
    const kdesc_t *k = &kernels[function];
    if (n_params != k->n_params)
        return HIL_KSTATUS_BAD_PARAMS;

    for (uint8_t i = 0; i < n_params; i++) {
        if (i != k->enum_param && (params[i] < 0 || params[i] > (int32_t)U16)) {
            *param = i;
            return HIL_KSTATUS_PARAM_RANGE;
        }
    }
    for (int b = 0; b < 3 && k->rules[b] != NULL; b++) {
        *param = broken_rule(k->rules[b], params);
        if (*param != NONE)
            return HIL_KSTATUS_PARAM_RANGE;
    }

    for (uint8_t r = 0; r < HIL_KREGION_COUNT; r++) {
        const uint64_t need = region_bytes(&k->size[r], params);
        /* An over-read past the input must land in the pad that follows
         * every region (HIL_KERNEL_REGION_PAD). */
        const uint64_t over = r == HIL_REGION_INPUT ? k->overread : 0u;
        if (need > sizes[r] || need + over > (uint64_t)sizes[r] + HIL_KERNEL_REGION_PAD) {
            *param = r;
            return HIL_KSTATUS_REGION_SIZE;
        }
    }
    return HIL_KSTATUS_SUCCESS;
}
