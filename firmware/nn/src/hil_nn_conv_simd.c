/*
 * The normal convolutions on cores with 32-bit SIMD (SMLAD): hil_nn_conv_widened.
 *
 * A word of four q7 values meets a word of four widened ones in two SMLADs.
 * The q7 side costs one SXTB16 (bytes 0 and 2) and one AND (bytes 1 and 3,
 * left at the top of their halfwords, so x256); the widened side holds
 * bytes 0 and 2 times 256 and bytes 1 and 3 as they are, so every product
 * carries the factor 256. Sums are formed x256 and divided out exactly
 * before they join the accumulators (GROUPS_PER_FLUSH).
 *
 * Which side is widened depends on ch_in:
 *  - ch_in % 4 == 0: two filters at a time are widened into the scratch
 *    (exactly its 4*k_len bytes) and every window is read straight from
 *    the image, a pixel together with the one below it or beside it;
 *  - otherwise: two im2col columns at a time are widened in the scratch
 *    and the filters are read as they are.
 * In the valid domain no sum overflows, so the order of the additions is
 * free; rounding, shift and saturation are those of hil_nn_requantise.
 */
#include "hil_nn_internal.h"

#ifdef HIL_NN_SIMD32

#define HIGH_BYTES 0xFF00FF00u

/* Groups of four products summed between two flushes of an x256 sum: a
 * group adds at most 4 * 128*128*256 = 2^24 in magnitude, so 127 groups
 * stay below 2^31 and the arithmetic shift back by 8 is exact. */
#define GROUPS_PER_FLUSH 127u

#define WORDS_PER_GROUP 4u /* of a widened pair: even x256 and odd of each */

/* Widened words live in the caller's scratch, whatever its declared type. */
#define HIL_NN_MAY_ALIAS __attribute__((may_alias))
typedef uint32_t hil_nn_word HIL_NN_MAY_ALIAS;

/* gcc's first scheduling pass hoists the widened loads of the loops below
 * and, with some -mcpu tunings (cortex-m4), then spills inside them;
 * without it every core gets the same spill-free loops. Out of line, so
 * that the loops have the registers to themselves. */
#if defined(__GNUC__) && !defined(__clang__)
#define HIL_NN_KERNEL __attribute__((noinline, optimize("no-schedule-insns")))
#else
#define HIL_NN_KERNEL __attribute__((noinline))
#endif

#define HIL_NN_ALWAYS_INLINE __attribute__((always_inline))

/* Four q7 values from a and b each, as WORDS_PER_GROUP widened words. */
static void widen_pair(const q7_t *a, const q7_t *b, uint32_t groups, uint32_t step,
                       hil_nn_word *dst)
{
    for (; groups > 0u; groups--, a += step, b += step, dst += WORDS_PER_GROUP) {
        uint32_t wa;
        uint32_t wb;
        memcpy(&wa, a, 4);
        memcpy(&wb, b, 4);
        dst[0] = (wa << 8) & HIGH_BYTES;
        dst[1] = (uint32_t)__sxtb16((int8x4_t)(wa >> 8));
        dst[2] = (wb << 8) & HIGH_BYTES;
        dst[3] = (uint32_t)__sxtb16((int8x4_t)(wb >> 8));
    }
}

/* s0/s1 += x256 products of the q7 word at p with widened group t. */
#define MAC_WORD(p, t, s0, s1)                                                       \
    do {                                                                             \
        uint32_t x_;                                                                 \
        memcpy(&x_, (p), 4);                                                         \
        const int16x2_t even_ = __sxtb16((int8x4_t)x_);                              \
        const int16x2_t odd_ = (int16x2_t)(x_ & HIGH_BYTES);                         \
        s0 = __smlad(odd_, (int16x2_t)(t)[1], __smlad(even_, (int16x2_t)(t)[0], s0)); \
        s1 = __smlad(odd_, (int16x2_t)(t)[3], __smlad(even_, (int16x2_t)(t)[2], s1)); \
    } while (0)

/* s[2*i + j] += x256 products of n groups of q7 run i (p, p + second)
 * with widened half j of t; n <= GROUPS_PER_FLUSH. */
static inline HIL_NN_ALWAYS_INLINE void sum_2x2(const q7_t *p, uint32_t second,
                                                const hil_nn_word *t, uint32_t n, int32_t s[4])
{
    int32_t s00 = s[0], s01 = s[1], s10 = s[2], s11 = s[3];
    if (n & 1u) {
        MAC_WORD(p, t, s00, s01);
        MAC_WORD(p + second, t, s10, s11);
        p += 4;
        t += WORDS_PER_GROUP;
    }
    for (const q7_t *const end = p + 8u * (n >> 1); p != end; p += 8, t += 2u * WORDS_PER_GROUP) {
        MAC_WORD(p, t, s00, s01);
        MAC_WORD(p + second, t, s10, s11);
        MAC_WORD(p + 4, t + WORDS_PER_GROUP, s00, s01);
        MAC_WORD(p + 4 + second, t + WORDS_PER_GROUP, s10, s11);
    }
    s[0] = s00;
    s[1] = s01;
    s[2] = s10;
    s[3] = s11;
}

/* As sum_2x2 for one q7 run: s[0..1]. */
static inline HIL_NN_ALWAYS_INLINE void sum_1x2(const q7_t *p, const hil_nn_word *t,
                                                uint32_t n, int32_t s[2])
{
    int32_t s0 = s[0], s1 = s[1];
    if (n & 1u) {
        MAC_WORD(p, t, s0, s1);
        p += 4;
        t += WORDS_PER_GROUP;
    }
    for (const q7_t *const end = p + 8u * (n >> 1); p != end; p += 8, t += 2u * WORDS_PER_GROUP) {
        MAC_WORD(p, t, s0, s1);
        MAC_WORD(p + 4, t + WORDS_PER_GROUP, s0, s1);
    }
    s[0] = s0;
    s[1] = s1;
}

/* acc[i] += s[i] / 256 for 2 * runs sums (exact: whole multiples of 256),
 * and s = 0. */
static inline HIL_NN_ALWAYS_INLINE void flush(int32_t *acc, int32_t *s, uint32_t runs)
{
    acc[0] += s[0] >> 8;
    acc[1] += s[1] >> 8;
    s[0] = s[1] = 0;
    if (runs == 2u) {
        acc[2] += s[2] >> 8;
        acc[3] += s[3] >> 8;
        s[2] = s[3] = 0;
    }
}

/* acc += x256 sums of a q7 run of any number of groups (in slices). */
static inline HIL_NN_ALWAYS_INLINE void sum_long(const q7_t *p, uint32_t second,
                                                 const hil_nn_word *t, uint32_t groups,
                                                 uint32_t runs, int32_t *acc)
{
    int32_t s[4] = {0, 0, 0, 0};
    for (uint32_t g = 0; g < groups; g += GROUPS_PER_FLUSH) {
        const uint32_t n = groups - g < GROUPS_PER_FLUSH ? groups - g : GROUPS_PER_FLUSH;
        if (runs == 2u) {
            sum_2x2(p + 4u * g, second, t + WORDS_PER_GROUP * g, n, s);
        } else {
            sum_1x2(p + 4u * g, t + WORDS_PER_GROUP * g, n, s);
        }
        flush(acc, s, runs);
    }
}

static inline q7_t sat_q7(int32_t v)
{
#if defined(__ARM_FEATURE_SAT)
    return (q7_t)__ssat(v, 8);
#else
    return hil_nn_sat_q7(v); /* host builds of this path (C models of the intrinsics) */
#endif
}

/* Clip kernel axis [0, k) of a window starting at `first` to [0, dim):
 * *lo = first kernel index inside; returns the count (0 if none). */
static inline uint32_t clip_axis(int32_t first, uint32_t k, uint32_t dim, uint32_t *lo)
{
    const int32_t start = first < 0 ? -first : 0;
    const int32_t stop = first + (int32_t)k > (int32_t)dim ? (int32_t)dim - first : (int32_t)k;
    *lo = (uint32_t)start;
    return stop > start ? (uint32_t)(stop - start) : 0u;
}

/* =====================================================================
 * ch_in % 4 == 0: widened filter pairs, windows read from the image
 * ===================================================================== */

/* `count` windows (or pairs of windows) of one shape, `step` image bytes and
 * `out_step` output bytes apart. */
typedef struct {
    const q7_t *in;          /* the first window's first byte inside the image */
    const hil_nn_word *taps; /* the widened taps that meet that byte */
    q7_t *out;               /* the first window's output of the first filter */
    uint32_t count, step, out_step;
    uint32_t second, out_second; /* offsets of a pair's second window (run_2x2) */
    uint32_t filter_step;        /* output bytes from the first filter to the second */
    uint32_t rows, groups;       /* kernel rows inside the image, tap groups per row */
    uint32_t rows_per_flush;     /* rows summed between flushes (groups <= GROUPS_PER_FLUSH) */
    uint32_t in_row;             /* bytes from one image row to the next */
    uint32_t taps_row;           /* words from one kernel row to the next */
    int32_t init[2];             /* accumulator start values of the two filters */
    uint32_t shift;              /* out_shift, clamped */
} hil_nn_run;

/* acc += the x256 sums of 1 or 2 (`runs`) windows at `in`. */
static inline HIL_NN_ALWAYS_INLINE void window_sums(const hil_nn_run *run, const q7_t *in,
                                                    uint32_t runs, int32_t *acc)
{
    const hil_nn_word *taps = run->taps;
    if (run->groups == 0u) {
        return; /* the window misses the image: bias only */
    }
    if (run->groups > GROUPS_PER_FLUSH) {
        for (uint32_t r = run->rows; r > 0u; r--, in += run->in_row, taps += run->taps_row) {
            sum_long(in, run->second, taps, run->groups, runs, acc);
        }
        return;
    }
    int32_t s[4] = {0, 0, 0, 0};
    for (uint32_t r = run->rows; r > 0u;) {
        uint32_t block = r < run->rows_per_flush ? r : run->rows_per_flush;
        r -= block;
        for (; block > 0u; block--, in += run->in_row, taps += run->taps_row) {
            if (runs == 2u) {
                sum_2x2(in, run->second, taps, run->groups, s);
            } else {
                sum_1x2(in, taps, run->groups, s);
            }
        }
        flush(acc, s, runs);
    }
}

/* Pairs of windows, run->second bytes apart: both filters on both. The run
 * is copied, as each output byte stored could alias its fields. */
static HIL_NN_KERNEL void run_2x2(const hil_nn_run *run_in)
{
    const hil_nn_run run = *run_in;
    const q7_t *in = run.in;
    q7_t *out = run.out;
    for (uint32_t k = run.count; k > 0u; k--, in += run.step, out += run.out_step) {
        int32_t acc[4] = {run.init[0], run.init[1], run.init[0], run.init[1]};
        window_sums(&run, in, 2u, acc);
        out[0] = sat_q7(acc[0] >> run.shift);
        out[run.filter_step] = sat_q7(acc[1] >> run.shift);
        out[run.out_second] = sat_q7(acc[2] >> run.shift);
        out[run.out_second + run.filter_step] = sat_q7(acc[3] >> run.shift);
    }
}

/* Single windows: both filters on each. */
static HIL_NN_KERNEL void run_1x2(const hil_nn_run *run_in)
{
    const hil_nn_run run = *run_in;
    const q7_t *in = run.in;
    q7_t *out = run.out;
    for (uint32_t k = run.count; k > 0u; k--, in += run.step, out += run.out_step) {
        int32_t acc[2] = {run.init[0], run.init[1]};
        window_sums(&run, in, 1u, acc);
        out[0] = sat_q7(acc[0] >> run.shift);
        out[run.filter_step] = sat_q7(acc[1] >> run.shift);
    }
}

/* Geometry of one convolution in plain locals (a stored output byte could
 * alias a struct field, so the loops would reload them). Output columns
 * [inner_lo, inner_hi) have windows wholly inside the image horizontally. */
typedef struct {
    uint32_t ch_in, ch_out, in_x, in_y, k_x, k_y, out_x, out_y;
    int32_t stride_x, stride_y, pad_x, pad_y;
    uint32_t inner_lo, inner_hi;
} hil_nn_dims;

static hil_nn_dims dims_of(const hil_nn_conv_geom *g)
{
    hil_nn_dims d = {
        .ch_in = g->ch_in, .ch_out = g->ch_out, .in_x = g->in_x, .in_y = g->in_y,
        .k_x = g->k_x, .k_y = g->k_y, .out_x = g->out_x, .out_y = g->out_y,
        .stride_x = g->stride_x, .stride_y = g->stride_y, .pad_x = g->pad_x, .pad_y = g->pad_y,
    };
    uint32_t lo = 0;
    uint32_t hi = d.out_x;
    /* window starts grow with the column: the edges are clipped, the middle not */
    while (lo < hi && (int32_t)lo * d.stride_x - d.pad_x < 0) {
        lo++;
    }
    while (hi > lo &&
           (int32_t)(hi - 1u) * d.stride_x - d.pad_x + (int32_t)d.k_x > (int32_t)d.in_x) {
        hi--;
    }
    d.inner_lo = lo;
    d.inner_hi = hi;
    return d;
}

/* Output row oy, and row oy + 1 too when with_next (the two clip alike): the
 * inner columns as one run, each clipped edge column as its own. run holds
 * the pass's fields (taps of the pair, init, shift, strides); out is pixel 0
 * of the pass's first filter. */
static void pass_rows(const hil_nn_dims *d, const q7_t *in, q7_t *out, uint32_t oy,
                      int with_next, hil_nn_run *run)
{
    const uint32_t ch = d->ch_in;
    const uint32_t row_out = d->out_x * d->ch_out;
    const int32_t y0 = (int32_t)oy * d->stride_y - d->pad_y;
    uint32_t ky0;
    run->rows = clip_axis(y0, d->k_y, d->in_y, &ky0);
    const hil_nn_word *const pair_taps = run->taps;
    const q7_t *const row_in = in + (uint32_t)(y0 + (int32_t)ky0) * run->in_row;
    out += oy * row_out;

    for (uint32_t ox = 0; ox < d->out_x;) {
        const uint32_t len = ox >= d->inner_lo && ox < d->inner_hi ? d->inner_hi - ox : 1u;
        const int32_t x0 = (int32_t)ox * d->stride_x - d->pad_x;
        uint32_t kx0;
        const uint32_t cols = clip_axis(x0, d->k_x, d->in_x, &kx0);
        const int inside = run->rows != 0u && cols != 0u;
        run->in = inside ? row_in + (uint32_t)(x0 + (int32_t)kx0) * ch : in;
        /* ch/4 groups of 4 words per kernel column */
        run->taps = inside ? pair_taps + (ky0 * d->k_x + kx0) * ch : pair_taps;
        run->groups = inside ? cols * ch / 4u : 0u;
        run->rows_per_flush = inside ? GROUPS_PER_FLUSH / run->groups : 1u;
        run->out = out + ox * d->ch_out;
        run->step = (uint32_t)d->stride_x * ch;
        run->out_step = d->ch_out;
        if (with_next) {
            run->count = len;
            run->second = (uint32_t)d->stride_y * run->in_row;
            run->out_second = row_out;
            run_2x2(run);
        } else {
            /* neighbours in the row share the taps */
            run->count = len / 2u;
            run->second = run->step;
            run->out_second = d->ch_out;
            run->step *= 2u;
            run->out_step *= 2u;
            if (run->count != 0u) {
                run_2x2(run);
            }
            if (len & 1u) {
                run->in += run->count * run->step;
                run->out += run->count * run->out_step;
                run->count = 1;
                run_1x2(run);
            }
        }
        run->taps = pair_taps;
        ox += len;
    }
}

/* Filters f and f + filter_step (0: f alone, computed twice) over the
 * image; out at filter f. */
static void pass_filters(const hil_nn_conv_geom *g, const hil_nn_dims *d, const q7_t *in,
                         const q7_t *f0, const q7_t *f1, q7_t b0, q7_t b1,
                         uint32_t filter_step, q7_t *out, hil_nn_word *taps)
{
    const uint32_t k_len = d->k_x * d->k_y * d->ch_in;
    widen_pair(f0, f1, k_len / 4u, 4u, taps);
    hil_nn_run run = {
        .taps = taps,
        .filter_step = filter_step,
        .in_row = d->in_x * d->ch_in,
        .taps_row = d->k_x * d->ch_in,
        .init = {hil_nn_acc_init(b0, g->bias_shift, g->out_shift),
                 hil_nn_acc_init(b1, g->bias_shift, g->out_shift)},
        .shift = hil_nn_shift(g->out_shift),
    };
    for (uint32_t oy = 0; oy < d->out_y;) {
        /* rows oy and oy + 1 pair up when they clip alike */
        uint32_t ky0 = 0;
        uint32_t ky0_next = 1;
        const int32_t y0 = (int32_t)oy * d->stride_y - d->pad_y;
        const uint32_t rows = clip_axis(y0, d->k_y, d->in_y, &ky0);
        const int with_next = oy + 1u < d->out_y &&
                              clip_axis(y0 + d->stride_y, d->k_y, d->in_y, &ky0_next) == rows &&
                              ky0_next == ky0;
        pass_rows(d, in, out, oy, with_next, &run);
        oy += with_next ? 2u : 1u;
    }
}

static void conv_widened_filters(const hil_nn_conv_geom *g, const q7_t *in, const q7_t *wt,
                                 const q7_t *bias, q7_t *out, hil_nn_word *taps)
{
    const hil_nn_dims d = dims_of(g);
    const uint32_t k_len = d.k_x * d.k_y * d.ch_in;
    uint32_t co = 0;
    for (; co + 2u <= d.ch_out; co += 2u, wt += 2u * k_len) {
        pass_filters(g, &d, in, wt, wt + k_len, bias[co], bias[co + 1u], 1u, out + co, taps);
    }
    if (co < d.ch_out) {
        pass_filters(g, &d, in, wt, wt, bias[co], bias[co], 0u, out + co, taps);
    }
}

/* =====================================================================
 * other ch_in: two widened im2col columns, the filters read as they are
 * ===================================================================== */

/*
 * k_len = 4*groups + tail. Per pair of output pixels the scratch goes
 * through three layouts, each step reading only what the one before wrote:
 *   1. im2col: both windows as q7 columns in [0, 2*k_len);
 *   2. staged from byte 2*k_len: their full groups interleaved (four bytes of
 *      the first column, four of the second, ...), then both tails;
 *   3. widened forward into [0, 16*groups): a group's 16 bytes never reach a
 *      staged byte still to be read, and the staged tails stay in place.
 * All within the 4*k_len bytes of bufferA.
 */
static void stage_columns(const q7_t *col0, const q7_t *col1, uint32_t k_len, q7_t *stage)
{
    const uint32_t full = k_len & ~3u;
    for (uint32_t i = 0; i < full; i += 4u, stage += 8) {
        memcpy(stage, col0 + i, 4);
        memcpy(stage + 4, col1 + i, 4);
    }
    for (uint32_t i = full; i < k_len; i++) {
        stage[i - full] = col0[i];
        stage[k_len - full + i - full] = col1[i];
    }
}

/* All filters over the two widened columns of one pair of pixels. */
typedef struct {
    const q7_t *wt;
    const q7_t *bias;
    const hil_nn_word *cols;   /* the widened columns */
    const q7_t *tail0, *tail1; /* the columns' last `tail` values, as q7 */
    hil_nn_word tail_group[WORDS_PER_GROUP]; /* the tails widened, zeros after them */
    q7_t *out0, *out1;         /* the two pixels' outputs */
    uint32_t k_len, groups, tail, ch_out;
    uint16_t bias_shift, out_shift;
} hil_nn_columns;

/* acc[2*f + c] += filter f (of w, w + k_len; f < nf) times column c over
 * the last `tail` values. */
static inline HIL_NN_ALWAYS_INLINE void tail_products(const hil_nn_columns *c, const q7_t *w,
                                                      uint32_t nf, int32_t *acc)
{
    for (uint32_t j = 0; j < c->tail; j++) {
        const int32_t x0 = c->tail0[j], x1 = c->tail1[j];
        for (uint32_t f = 0; f < nf; f++) {
            const int32_t v = w[f * c->k_len + 4u * c->groups + j];
            acc[2u * f] += v * x0;
            acc[2u * f + 1u] += v * x1;
        }
    }
}

static HIL_NN_KERNEL void filters_2x2(const hil_nn_columns *cp)
{
    const hil_nn_columns c = *cp; /* copied: stored outputs could alias it */
    const uint32_t shift = hil_nn_shift(c.out_shift);
    const q7_t *w = c.wt;
    uint32_t co = 0;
    for (; co + 2u <= c.ch_out; co += 2u, w += 2u * c.k_len) {
        const int32_t i0 = hil_nn_acc_init(c.bias[co], c.bias_shift, c.out_shift);
        const int32_t i1 = hil_nn_acc_init(c.bias[co + 1u], c.bias_shift, c.out_shift);
        int32_t acc[4] = {i0, i0, i1, i1}; /* [2*filter + pixel] */
        if (c.groups < GROUPS_PER_FLUSH &&
            (c.tail == 0u || (c.ch_out - co - 1u) * c.k_len >= 4u * c.groups + 4u)) {
            /* one flush; the tails read as a whole group each, whose bytes
             * past a filter's end (later filters', inside wt) meet zeros */
            int32_t s[4] = {0, 0, 0, 0};
            sum_2x2(w, c.k_len, c.cols, c.groups, s);
            if (c.tail != 0u) {
                MAC_WORD(w + 4u * c.groups, c.tail_group, s[0], s[1]);
                MAC_WORD(w + c.k_len + 4u * c.groups, c.tail_group, s[2], s[3]);
            }
            flush(acc, s, 2u);
        } else {
            sum_long(w, c.k_len, c.cols, c.groups, 2u, acc);
            tail_products(&c, w, 2u, acc);
        }
        c.out0[co] = sat_q7(acc[0] >> shift);
        c.out1[co] = sat_q7(acc[1] >> shift);
        c.out0[co + 1u] = sat_q7(acc[2] >> shift);
        c.out1[co + 1u] = sat_q7(acc[3] >> shift);
    }
    if (co < c.ch_out) {
        const int32_t i0 = hil_nn_acc_init(c.bias[co], c.bias_shift, c.out_shift);
        int32_t acc[2] = {i0, i0};
        sum_long(w, 0u, c.cols, c.groups, 1u, acc);
        tail_products(&c, w, 1u, acc);
        c.out0[co] = sat_q7(acc[0] >> shift);
        c.out1[co] = sat_q7(acc[1] >> shift);
    }
}

static void conv_widened_columns(const hil_nn_conv_geom *g, const q7_t *in, const q7_t *wt,
                                 const q7_t *bias, q7_t *out, hil_nn_word *cols)
{
    const uint32_t k_len = (uint32_t)g->k_x * g->k_y * g->ch_in;
    q7_t *const raw = (q7_t *)cols;
    q7_t *const stage = raw + 2u * k_len;
    const uint32_t full = k_len & ~3u;
    hil_nn_columns c = {
        .wt = wt, .bias = bias, .cols = cols,
        .tail0 = stage + 2u * full, .tail1 = stage + 2u * full + (k_len - full),
        .k_len = k_len, .groups = k_len / 4u, .tail = k_len - full, .ch_out = g->ch_out,
        .bias_shift = g->bias_shift, .out_shift = g->out_shift,
    };
    const uint32_t pixels = (uint32_t)g->out_x * g->out_y;
    for (uint32_t p = 0; p < pixels; p += 2u) {
        const uint32_t p1 = p + 1u < pixels ? p + 1u : p; /* the last one twice if odd */
        int32_t y0, x0;
        hil_nn_window(g, p, &y0, &x0);
        hil_nn_im2col(g, in, y0, x0, raw);
        hil_nn_window(g, p1, &y0, &x0);
        hil_nn_im2col(g, in, y0, x0, raw + k_len);
        stage_columns(raw, raw + k_len, k_len, stage);
        widen_pair(stage, stage + 4, c.groups, 8u, cols);
        if (c.tail != 0u) {
            q7_t last[8];
            memset(last, 0, sizeof last);
            for (uint32_t j = 0; j < c.tail; j++) {
                last[j] = c.tail0[j];
                last[4u + j] = c.tail1[j];
            }
            widen_pair(last, last + 4, 1u, 0u, c.tail_group);
        }
        c.out0 = out + p * g->ch_out;
        c.out1 = out + p1 * g->ch_out;
        filters_2x2(&c);
    }
}

int hil_nn_conv_widened(const hil_nn_conv_geom *g, const q7_t *in, const q7_t *wt,
                        const q7_t *bias, q7_t *out, void *scratch)
{
    if (g->ch_in == 0u || ((uintptr_t)scratch & 3u) != 0u) {
        return 0; /* the widened words need an aligned scratch */
    }
    if (g->ch_in % 4u == 0u) {
        conv_widened_filters(g, in, wt, bias, out, (hil_nn_word *)scratch);
    } else {
        conv_widened_columns(g, in, wt, bias, out, (hil_nn_word *)scratch);
    }
    return 1;
}

#else

int hil_nn_conv_widened(const hil_nn_conv_geom *g, const q7_t *in, const q7_t *wt,
                        const q7_t *bias, q7_t *out, void *scratch)
{
    (void)g, (void)in, (void)wt, (void)bias, (void)out, (void)scratch;
    return 0; /* no SMLAD: the callers' portable loops */
}

#endif /* HIL_NN_SIMD32 */
