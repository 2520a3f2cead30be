/*
 * kcheck.c: a KERNEL_RUN's scalar parameters and arena regions, checked on
 * the device before the call. The rules, region sizes and parameter counts
 * are tables generated from the kernel catalogue (hil/kernels/catalogue.py,
 * by scripts/gen_kernels.py, into kcheck_tables.h); this file only interprets
 * them. hil/reference/validation.py interprets the same rules in the same
 * order, so the refused parameter is the one the host would name. Scratch
 * sizes are the genuine library's contract (arm_nnfunctions.h), so an image
 * built against it is covered too.
 *
 * The layer runner does not call it: the exported module it runs was
 * generated after the host validated every layer and planned the arena,
 * so a check per layer would only repeat those checks on every inference.
 */
#include "hil_fw.h"

#define U16 0xFFFFu
#define NONE 0xFFu          /* no parameter: a factor of 1 in a size */
#define TOO_BIG 0x100000000ull /* any size past a uint32_t region */
#define KCHECK_RULE_GROUPS 3

/* One rule on p[a], the parameter it refuses; b..e are the parameters it is
 * compared with (see enum kcheck_op). */
typedef struct {
    uint8_t op, a, b, c, d, e;
    uint16_t lo, hi;
} rule_t;

/* A region's bytes: coef * p[i0] * p[i1] * p[i2] * p[i3] (NONE = 1). */
typedef struct {
    uint8_t coef, i[4];
} factors_t;

typedef struct {
    uint8_t n_params;
    uint8_t enum_param; /* the one parameter that is not a uint16_t (or NONE) */
    uint8_t overread;   /* bytes the kernel reads past its input */
    const rule_t *rules[KCHECK_RULE_GROUPS]; /* applied in order, up to the first NULL */
    factors_t size[HIL_KREGION_COUNT];       /* input, weights, bias, output, scratch */
} kdesc_t;

#include "kcheck_tables.h"

/* Floor division, as Python's // in validation.formula_out. */
static int32_t floor_div(int32_t a, int32_t b)
{
    return a / b - (a % b != 0 && a < 0);
}

/* Index of the refused parameter, or NONE. Parameters are already uint16,
 * so only the pooling product needs more than 32 bits. */
static uint8_t broken_rule(const rule_t *r, const int32_t *p)
{
    for (; r->op != KOP_END; r++) {
        const int32_t a = p[r->a], b = p[r->b], c = p[r->c], d = p[r->d], e = p[r->e];
        int broken = 0;
        switch (r->op) {
        case KOP_RANGE:
            broken = a < r->lo || a > r->hi;
            break;
        case KOP_LESS:
            broken = a >= b;
            break;
        case KOP_NOT_ABOVE:
            broken = a > b;
            break;
        case KOP_SAME:
            broken = a != b;
            break;
        case KOP_MULTIPLE:
            broken = a % r->lo != 0;
            break;
        case KOP_WINDOW_FITS: /* a dim_out, b dim_in, c kernel, d padding, e stride */
            broken = a > floor_div(b + 2 * d - c, e) + 1;
            break;
        case KOP_LAST_WINDOW: /* a dim_out, b dim_in, c padding, d stride */
            broken = (int64_t)(a - 1) * d - c >= b;
            break;
        }
        if (broken)
            return r->a;
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
    for (int g = 0; g < KCHECK_RULE_GROUPS && k->rules[g] != NULL; g++) {
        *param = broken_rule(k->rules[g], params);
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
