/*
 * arm_softmax_s8: TFLite Micro's int8 softmax (output scale 1/256, zero
 * point -128), in gemmlowp fixed point: differences from the row maximum are
 * rescaled to Q5.26, exponentiated into Q0.31, summed in Q12.19, and each
 * exponential is scaled by the sum's reciprocal.
 *
 * The input rescale is a saturating doubling high multiply of diff << shift
 * by mult under either rounding mode, as in the genuine library.
 */
#include "hil_nn_s8_internal.h"

#define HIL_SOFTMAX_ACCUM_BITS 12

/* exp(x) for x in [-1/4, 0), Q0.31 in and out: Taylor series around -1/8. */
static int32_t exp_on_quarter_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = a + (1 << 28);
    const int32_t x2 = hil_s8_srdhm(x, x);
    const int32_t x3 = hil_s8_srdhm(x2, x);
    const int32_t x4 = hil_s8_srdhm(x2, x2);
    const int32_t x4_over_4 = hil_s8_rdbypot(x4, 2);
    const int32_t poly = hil_s8_rdbypot(hil_s8_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + hil_s8_srdhm(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0 in Q5.26; result in Q0.31. */
static int32_t exp_on_negative_values(int32_t a)
{
    /* exp(-2^k) in Q0.31 for k = -2 .. 4, applied per set bit of the
     * multiple of 1/4 that was split off. */
    static const int32_t factors[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t quarter = 1 << 24;
    const int32_t a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter;
    int32_t result = exp_on_quarter_interval((int32_t)((uint32_t)a_mod_quarter_minus_quarter << 5));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    for (int32_t k = 0; k < 7; k++)
    {
        if (remainder & (1 << (24 + k)))
        {
            result = hil_s8_srdhm(result, factors[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + x) for x in [0, 1), Q0.31 in and out: Newton-Raphson in Q2.29. */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t one_q2 = 1 << 29;
    int32_t x = 1515870810 + hil_s8_srdhm(half_denominator, -1010580540); /* 48/17 - 32/17 d */
    for (int32_t i = 0; i < 3; i++)
    {
        const int32_t error = one_q2 - hil_s8_srdhm(half_denominator, x);
        x = x + hil_s8_sat_left_shift(hil_s8_srdhm(x, error), 2);
    }
    return hil_s8_sat_left_shift(x, 1);
}

static int32_t count_leading_zeros(uint32_t v)
{
    int32_t n = 0;
    if (v == 0u)
    {
        return 32;
    }
    while ((v & 0x80000000u) == 0u)
    {
        v <<= 1;
        n++;
    }
    return n;
}

void arm_softmax_s8(const int8_t *input,
                    const int32_t num_rows,
                    const int32_t row_size,
                    const int32_t mult,
                    const int32_t shift,
                    const int32_t diff_min,
                    int8_t *output)
{
    for (int32_t row = 0; row < num_rows; row++)
    {
        const int8_t *in = input + (size_t)row * row_size;
        int8_t *out = output + (size_t)row * row_size;
        int32_t max = INT8_MIN;
        for (int32_t i = 0; i < row_size; i++)
        {
            max = in[i] > max ? in[i] : max;
        }

        int32_t sum = 0;
        for (int32_t i = 0; i < row_size; i++)
        {
            const int32_t diff = in[i] - max;
            if (diff >= diff_min)
            {
                const int32_t scaled = hil_s8_srdhm((int32_t)((uint32_t)diff << shift), mult);
                sum = hil_s8_wrap_add(sum, hil_s8_rdbypot(exp_on_negative_values(scaled), HIL_SOFTMAX_ACCUM_BITS));
            }
        }

        const int32_t headroom = count_leading_zeros((uint32_t)sum);
        const int32_t scale = one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
        const int32_t exponent = HIL_SOFTMAX_ACCUM_BITS - headroom + 23;

        for (int32_t i = 0; i < row_size; i++)
        {
            const int32_t diff = in[i] - max;
            int32_t v = INT8_MIN;
            if (diff >= diff_min)
            {
                const int32_t scaled = hil_s8_srdhm((int32_t)((uint32_t)diff << shift), mult);
                v = hil_s8_rdbypot(hil_s8_srdhm(scale, exp_on_negative_values(scaled)), exponent) + INT8_MIN;
                v = v > INT8_MAX ? INT8_MAX : v;
                v = v < INT8_MIN ? INT8_MIN : v;
            }
            out[i] = (int8_t)v;
        }
    }
}
