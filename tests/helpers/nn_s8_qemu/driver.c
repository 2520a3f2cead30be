/*
 * Runs the firmware/nn/s8 dot-product kernels on pseudo-random data and
 * prints every output byte in hex, so a host build (plain C) and a target
 * build (DSP or Helium, under QEMU with semihosting) can be compared byte
 * for byte. Shapes cover channel counts around the 4- and 16-lane tails.
 */
#include <stdio.h>

#include "arm_nnfunctions.h"

static uint32_t state = 12345u;

static uint32_t next(void)
{
    state = state * 1664525u + 1013904223u;
    return state >> 8;
}

static void fill8(int8_t *p, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
    {
        p[i] = (int8_t)(next() & 0xFF);
    }
}

static void dump(const char *what, int32_t shape, const int8_t *p, int32_t n)
{
    printf("%s %ld:", what, (long)shape);
    for (int32_t i = 0; i < n; i++)
    {
        printf("%02x", (unsigned)(uint8_t)p[i]);
    }
    printf("\n");
}

static int8_t input[2 * 5 * 5 * 37];
static int8_t weights[7 * 3 * 3 * 37];
static int8_t output[2 * 5 * 5 * 7];
static int32_t bias[7];
static int32_t mult[7];
static int32_t shift[7];
static int32_t fc_shift[7];

int main(void)
{
    static const int32_t channels[] = {1, 3, 4, 5, 8, 15, 16, 17, 31, 32, 33, 37};
    for (uint32_t k = 0; k < sizeof(channels) / sizeof(channels[0]); k++)
    {
        const int32_t c = channels[k];
        fill8(input, (int32_t)sizeof(input));
        fill8(weights, (int32_t)sizeof(weights));
        for (int32_t i = 0; i < 7; i++)
        {
            bias[i] = (int32_t)(next() % 20001u) - 10000;
            mult[i] = (int32_t)(0x40000000u + (next() & 0x3FFFFFFFu));
            shift[i] = -(int32_t)(next() % 10u);
            fc_shift[i] = shift[i] - 12;
        }
        const cmsis_nn_context ctx = {NULL, 0};
        const cmsis_nn_conv_params conv = {3, -5, {1, 2}, {1, 1}, {1, 1}, {-128, 127}};
        const cmsis_nn_per_channel_quant_params pc = {mult, shift};
        const cmsis_nn_dims in_dims = {2, 5, 5, c};
        const cmsis_nn_dims f_dims = {7, 3, 3, c};
        const cmsis_nn_dims b_dims = {1, 1, 1, 7};
        const cmsis_nn_dims out_dims = {2, 3, 5, 7};
        if (arm_convolve_wrapper_s8(
                &ctx, &conv, &pc, &in_dims, input, &f_dims, weights, &b_dims, bias, &out_dims, output) !=
            ARM_CMSIS_NN_SUCCESS)
        {
            return 1;
        }
        dump("conv", c, output, 2 * 3 * 5 * 7);

        const int32_t depth = c * 9;
        const cmsis_nn_fc_params fc = {-7, 3, 4, {-100, 120}};
        const cmsis_nn_per_tensor_quant_params pt = {mult[0], fc_shift[0]};
        const cmsis_nn_per_channel_quant_params fc_pc = {mult, fc_shift};
        const cmsis_nn_dims fc_in = {2, 1, 1, depth};
        const cmsis_nn_dims fc_f = {depth, 1, 1, 7};
        const cmsis_nn_dims fc_out = {2, 1, 1, 7};
        if (arm_fully_connected_s8(&ctx, &fc, &pt, &fc_in, input, &fc_f, weights, &b_dims, bias, &fc_out, output) !=
                ARM_CMSIS_NN_SUCCESS ||
            arm_fully_connected_per_channel_s8(
                &ctx, &fc, &fc_pc, &fc_in, input, &fc_f, weights, &b_dims, bias, &fc_out, output + 14) !=
                ARM_CMSIS_NN_SUCCESS)
        {
            return 2;
        }
        dump("fc", c, output, 28);
    }
    printf("done\n");
    return 0;
}
