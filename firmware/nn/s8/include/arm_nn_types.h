/*
 * arm_nn_types.h: the argument structures of the s8 kernels, with the
 * names, member order and member types of CMSIS-NN (>= 4.0), so a caller's
 * initialisers work unchanged against either library.
 */
#ifndef ARM_NN_TYPES_H
#define ARM_NN_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What every kernel that can refuse its arguments returns. */
typedef enum
{
    ARM_CMSIS_NN_SUCCESS = 0,        /* done */
    ARM_CMSIS_NN_ARG_ERROR = -1,     /* an argument breaks the function's rules */
    ARM_CMSIS_NN_NO_IMPL_ERROR = -2, /* no implementation for this case */
    ARM_CMSIS_NN_FAILURE = -3,       /* logical error */
} arm_cmsis_nn_status;

/* A 2-D quantity: stride, padding (top and left) or dilation. */
typedef struct
{
    int32_t w;
    int32_t h;
} cmsis_nn_tile;

/* Scratch memory handed to a kernel; size is in bytes. */
typedef struct
{
    void *buf;
    int32_t size;
} cmsis_nn_context;

/* A tensor's shape. n is the batch count, or the output channels of a
 * convolution filter, as each function's documentation says. */
typedef struct
{
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} cmsis_nn_dims;

/* One multiplier and shift per output channel. */
typedef struct
{
    int32_t *multiplier;
    int32_t *shift;
} cmsis_nn_per_channel_quant_params;

/* One multiplier and shift for the whole output tensor. */
typedef struct
{
    int32_t multiplier;
    int32_t shift;
} cmsis_nn_per_tensor_quant_params;

/* Inclusive output clamp. */
typedef struct
{
    int32_t min;
    int32_t max;
} cmsis_nn_activation;

/* input_offset is minus the input zero point, output_offset the output
 * zero point. */
typedef struct
{
    int32_t input_offset;
    int32_t output_offset;
    cmsis_nn_tile stride;
    cmsis_nn_tile padding;
    cmsis_nn_tile dilation;
    cmsis_nn_activation activation;
} cmsis_nn_conv_params;

/* As cmsis_nn_conv_params, plus ch_mult: output channels per input channel. */
typedef struct
{
    int32_t input_offset;
    int32_t output_offset;
    int32_t ch_mult;
    cmsis_nn_tile stride;
    cmsis_nn_tile padding;
    cmsis_nn_tile dilation;
    cmsis_nn_activation activation;
} cmsis_nn_dw_conv_params;

typedef struct
{
    cmsis_nn_tile stride;
    cmsis_nn_tile padding;
    cmsis_nn_activation activation;
} cmsis_nn_pool_params;

/* filter_offset is minus the weights' zero point. */
typedef struct
{
    int32_t input_offset;
    int32_t filter_offset;
    int32_t output_offset;
    cmsis_nn_activation activation;
} cmsis_nn_fc_params;

#ifdef __cplusplus
}
#endif

#endif /* ARM_NN_TYPES_H */
