/*
 * kcall.c: the single kernel-call table. Function ids are HIL_FN_* from
 * hil_protocol.h (generated from hil.reference.spec.FUNCTION_IDS); params
 * are the scalar C parameters in C argument order. Used by the layer runner
 * and by KERNEL_RUN alike, so the conformance path tests the exact calls the
 * network makes.
 */
#include <string.h>

#include "hil_fw.h"

static const uint8_t n_params_of[HIL_FN_COUNT + 1] = {
    [HIL_FN_arm_convolve_HWC_q7_basic] = HIL_FN_NPARAMS_arm_convolve_HWC_q7_basic,
    [HIL_FN_arm_convolve_HWC_q7_fast] = HIL_FN_NPARAMS_arm_convolve_HWC_q7_fast,
    [HIL_FN_arm_convolve_HWC_q7_RGB] = HIL_FN_NPARAMS_arm_convolve_HWC_q7_RGB,
    [HIL_FN_arm_convolve_HWC_q7_basic_nonsquare] = HIL_FN_NPARAMS_arm_convolve_HWC_q7_basic_nonsquare,
    [HIL_FN_arm_convolve_HWC_q7_fast_nonsquare] = HIL_FN_NPARAMS_arm_convolve_HWC_q7_fast_nonsquare,
    [HIL_FN_arm_convolve_1x1_HWC_q7_fast_nonsquare] = HIL_FN_NPARAMS_arm_convolve_1x1_HWC_q7_fast_nonsquare,
    [HIL_FN_arm_depthwise_separable_conv_HWC_q7] = HIL_FN_NPARAMS_arm_depthwise_separable_conv_HWC_q7,
    [HIL_FN_arm_depthwise_separable_conv_HWC_q7_nonsquare] = HIL_FN_NPARAMS_arm_depthwise_separable_conv_HWC_q7_nonsquare,
    [HIL_FN_arm_relu_q7] = HIL_FN_NPARAMS_arm_relu_q7,
    [HIL_FN_arm_maxpool_q7_HWC] = HIL_FN_NPARAMS_arm_maxpool_q7_HWC,
    [HIL_FN_arm_avepool_q7_HWC] = HIL_FN_NPARAMS_arm_avepool_q7_HWC,
    [HIL_FN_arm_fully_connected_q7] = HIL_FN_NPARAMS_arm_fully_connected_q7,
    [HIL_FN_arm_fully_connected_q7_opt] = HIL_FN_NPARAMS_arm_fully_connected_q7_opt,
    [HIL_FN_arm_softmax_q7] = HIL_FN_NPARAMS_arm_softmax_q7,
    [HIL_FN_arm_nn_activations_direct_q7] = HIL_FN_NPARAMS_arm_nn_activations_direct_q7,
};

static int in_place(uint8_t fn)
{
    return fn == HIL_FN_arm_relu_q7 || fn == HIL_FN_arm_nn_activations_direct_q7;
}

void hil_kernel_stage(uint8_t fn, const q7_t *in, q7_t *out, uint32_t bytes)
{
    if (in_place(fn) && in != out)
        memmove(out, in, bytes);
}

#define U(i) ((uint16_t)p[i])

/* Square convolutions: dim_im_in ch_im_in ch_im_out dim_kernel padding stride
 * bias_shift out_shift dim_im_out. */
#define SQUARE_CONV(f) \
    f(in, U(0), U(1), w, U(2), U(3), U(4), U(5), b, U(6), U(7), out, U(8), scratch, NULL)
/* Non-square: dim_im_in_x dim_im_in_y ch_im_in ch_im_out dim_kernel_x
 * dim_kernel_y padding_x padding_y stride_x stride_y bias_shift out_shift
 * dim_im_out_x dim_im_out_y. */
#define NONSQUARE_CONV(f)                                                               \
    f(in, U(0), U(1), U(2), w, U(3), U(4), U(5), U(6), U(7), U(8), U(9), b, U(10), U(11), \
      out, U(12), U(13), scratch, NULL)
/* Fully connected: dim_vec num_of_rows bias_shift out_shift. */
#define FC(f) f(in, w, U(0), U(1), U(2), U(3), b, out, scratch)
/* Pooling: dim_im_in ch_im_in dim_kernel padding stride dim_im_out. */
#define POOL(f) f(in, U(0), U(1), U(2), U(3), U(4), U(5), (q7_t *)scratch, out)

int32_t hil_kernel_call(uint8_t fn, const int32_t *p, uint8_t n, q7_t *in, const q7_t *w,
                        const q7_t *b, q7_t *out, q15_t *scratch)
{
    if (fn == 0 || fn > HIL_FN_COUNT)
        return HIL_KSTATUS_BAD_FUNCTION;
    if (n != n_params_of[fn])
        return HIL_KSTATUS_BAD_PARAMS;
    switch (fn) {
    case HIL_FN_arm_convolve_HWC_q7_basic:
        return SQUARE_CONV(arm_convolve_HWC_q7_basic);
    case HIL_FN_arm_convolve_HWC_q7_fast:
        return SQUARE_CONV(arm_convolve_HWC_q7_fast);
    case HIL_FN_arm_convolve_HWC_q7_RGB:
        return SQUARE_CONV(arm_convolve_HWC_q7_RGB);
    case HIL_FN_arm_convolve_HWC_q7_basic_nonsquare:
        return NONSQUARE_CONV(arm_convolve_HWC_q7_basic_nonsquare);
    case HIL_FN_arm_convolve_HWC_q7_fast_nonsquare:
        return NONSQUARE_CONV(arm_convolve_HWC_q7_fast_nonsquare);
    case HIL_FN_arm_convolve_1x1_HWC_q7_fast_nonsquare:
        return NONSQUARE_CONV(arm_convolve_1x1_HWC_q7_fast_nonsquare);
    case HIL_FN_arm_depthwise_separable_conv_HWC_q7:
        return SQUARE_CONV(arm_depthwise_separable_conv_HWC_q7);
    case HIL_FN_arm_depthwise_separable_conv_HWC_q7_nonsquare:
        return NONSQUARE_CONV(arm_depthwise_separable_conv_HWC_q7_nonsquare);
    case HIL_FN_arm_relu_q7:
        arm_relu_q7(out, U(0));
        return HIL_KSTATUS_SUCCESS;
    case HIL_FN_arm_maxpool_q7_HWC:
        POOL(arm_maxpool_q7_HWC);
        return HIL_KSTATUS_SUCCESS;
    case HIL_FN_arm_avepool_q7_HWC:
        POOL(arm_avepool_q7_HWC);
        return HIL_KSTATUS_SUCCESS;
    case HIL_FN_arm_fully_connected_q7:
        return FC(arm_fully_connected_q7);
    case HIL_FN_arm_fully_connected_q7_opt:
        return FC(arm_fully_connected_q7_opt);
    case HIL_FN_arm_softmax_q7:
        arm_softmax_q7(in, U(0), out);
        return HIL_KSTATUS_SUCCESS;
    case HIL_FN_arm_nn_activations_direct_q7:
        arm_nn_activations_direct_q7(out, U(0), U(1), (arm_nn_activation_type)p[2]);
        return HIL_KSTATUS_SUCCESS;
    default:
        return HIL_KSTATUS_BAD_FUNCTION;
    }
}
