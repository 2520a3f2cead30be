/*
 * kcall_s8.h: one s8 kernel call, checked and prepared outside the timed
 * region (hil_s8_prepare) and then made (hil_s8_call).
 */
#ifndef KCALL_S8_H
#define KCALL_S8_H

#include "hil_fw.h"
#include "kcall_s8_ids.h"

typedef struct {
    uint8_t function;
    cmsis_nn_context ctx;
    cmsis_nn_conv_params conv;
    cmsis_nn_dw_conv_params dw;
    cmsis_nn_fc_params fc;
    cmsis_nn_pool_params pool;
    cmsis_nn_per_channel_quant_params per_channel;
    cmsis_nn_per_tensor_quant_params per_tensor;
    cmsis_nn_dims input_dims, filter_dims, bias_dims, output_dims;
    const int8_t *input, *weights;
    const int32_t *bias;
    int8_t *output;
    int32_t num_rows, row_size, mult, shift, diff_min; /* arm_softmax_s8 */
} hil_s8_call_t;

/* The regions: input, weights, bias (int32 bias ++ multiplier ++ shift),
 * output, scratch (the rest of the arena); sizes[] in bytes. */
typedef struct {
    uint8_t *base[HIL_KREGION_COUNT];
    uint32_t sizes[HIL_KREGION_COUNT];
} hil_s8_regions_t;

/* HIL_KSTATUS_SUCCESS with *call ready, or why the call is refused:
 * BAD_FUNCTION, BAD_PARAMS (count), PARAM_RANGE (*param = the parameter's
 * index; n_params: a shift in the bias region), REGION_SIZE (*param = the
 * region, HIL_REGION_SCRATCH when the function's *_get_buffer_size does not
 * fit). Nothing is called on a refusal. */
int32_t hil_s8_prepare(uint8_t function, const int32_t *params, uint8_t n_params,
                       const hil_s8_regions_t *regions, uint8_t *param, hil_s8_call_t *call);

/* The prepared call: the kernel's arm_cmsis_nn_status (0 for softmax). */
int32_t hil_s8_call(const hil_s8_call_t *call);

#endif /* KCALL_S8_H */
