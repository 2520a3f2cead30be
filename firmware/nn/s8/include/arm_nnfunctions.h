/*
 * arm_nnfunctions.h: hil's portable s8 (int8) kernels, a drop-in subset of
 * the CMSIS-NN (>= 4.0) API: the same function names, argument structures
 * and signatures, so firmware written for the genuine library builds
 * against this one and vice versa.
 *
 * Arithmetic is TensorFlow Lite Micro's integer reference, bit for bit:
 * int32 accumulation, then requantisation by (multiplier, shift) with
 * double rounding (saturating rounding doubling high multiply, then a
 * rounding right shift), or with one rounding when
 * CMSIS_NN_USE_SINGLE_ROUNDING is defined (TFLM's TFLITE_SINGLE_ROUNDING).
 * The plain-C, DSP (ARM_MATH_DSP) and Helium (ARM_MATH_MVEI) paths give the
 * same bytes; see arm_nn_math_types.h.
 *
 * Layouts: tensors are NHWC. Convolution filters are [C_OUT, HK, WK, C_IN],
 * depthwise filters [1, HK, WK, C_IN * ch_mult] (output channel
 * ic * ch_mult + m), fully-connected weights [output_depth, accum_depth].
 * Padding is the top/left padding; taps outside the input add nothing.
 *
 * The *_get_buffer_size functions return what the genuine library returns
 * for the same target (the _dsp and _mve forms: for those targets, callable
 * on any host), so buffers planned for one library suit the other. These
 * kernels use that scratch to go faster (the convolution's im2col columns)
 * but work without it: ctx->buf may be NULL.
 */
#ifndef ARM_NNFUNCTIONS_H
#define ARM_NNFUNCTIONS_H

#include "arm_nn_math_types.h"
#include "arm_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * s8 convolution, per-channel requantisation.
 *   ctx          scratch (see arm_convolve_wrapper_s8_get_buffer_size)
 *   conv_params  input_offset [-127, 128], output_offset [-128, 127],
 *                stride, padding, dilation (>= 1), activation clamp
 *   quant_params multiplier and shift per output channel
 *   input_dims   [N, H, W, C_IN];     input_data int8
 *   filter_dims  [C_OUT, HK, WK, C_IN]; filter_data int8
 *   bias_dims    [C_OUT];             bias_data int32 (may be NULL)
 *   output_dims  [N, H, W, C_OUT];    output_data int8
 * out = clamp(requant(bias + sum((in + input_offset) * w)) + output_offset)
 * Returns ARM_CMSIS_NN_ARG_ERROR (writing nothing) when filter_dims->c does
 * not divide input_dims->c, or a stride or dilation is below 1.
 */
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
                                            int8_t *output_data);

/* Scratch bytes the genuine arm_convolve_wrapper_s8 asks for on this
 * target; the _dsp and _mve forms answer for those targets. */
int32_t arm_convolve_wrapper_s8_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                const cmsis_nn_dims *input_dims,
                                                const cmsis_nn_dims *filter_dims,
                                                const cmsis_nn_dims *output_dims);
int32_t arm_convolve_wrapper_s8_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims);
int32_t arm_convolve_wrapper_s8_get_buffer_size_mve(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims);

/*
 * s8 depthwise convolution, per-channel requantisation.
 *   dw_conv_params  as for the convolution, plus ch_mult (C_OUT = C_IN * ch_mult)
 *   input_dims   [N, H, W, C_IN]
 *   filter_dims  [1, HK, WK, C_OUT]
 *   bias_dims    [C_OUT]; bias_data int32 (may be NULL)
 *   output_dims  [N, H, W, C_OUT]
 * Output channel oc = ic * ch_mult + m reads input channel ic.
 * Returns ARM_CMSIS_NN_ARG_ERROR (writing nothing) when
 * C_OUT != C_IN * ch_mult, or a stride or dilation is below 1.
 */
arm_cmsis_nn_status arm_depthwise_conv_wrapper_s8(const cmsis_nn_context *ctx,
                                                  const cmsis_nn_dw_conv_params *dw_conv_params,
                                                  const cmsis_nn_per_channel_quant_params *quant_params,
                                                  const cmsis_nn_dims *input_dims,
                                                  const int8_t *input_data,
                                                  const cmsis_nn_dims *filter_dims,
                                                  const int8_t *filter_data,
                                                  const cmsis_nn_dims *bias_dims,
                                                  const int32_t *bias_data,
                                                  const cmsis_nn_dims *output_dims,
                                                  int8_t *output_data);

int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                      const cmsis_nn_dims *input_dims,
                                                      const cmsis_nn_dims *filter_dims,
                                                      const cmsis_nn_dims *output_dims);
int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                          const cmsis_nn_dims *input_dims,
                                                          const cmsis_nn_dims *filter_dims,
                                                          const cmsis_nn_dims *output_dims);
int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size_mve(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                          const cmsis_nn_dims *input_dims,
                                                          const cmsis_nn_dims *filter_dims,
                                                          const cmsis_nn_dims *output_dims);

/*
 * s8 fully connected, one multiplier and shift for the tensor.
 *   fc_params    input_offset [-127, 128], filter_offset, output_offset
 *                [-128, 127], activation clamp
 *   input_dims   N batches of accum_depth values (H, W, C not used)
 *   filter_dims  n = accum_depth, c = output_depth; filter_data
 *                [output_depth, accum_depth]
 *   bias_dims    [output_depth]; bias_data int32 (may be NULL)
 *   output_dims  c = output_depth
 * acc = bias + sum((in + input_offset) * (w + filter_offset)).
 * Returns ARM_CMSIS_NN_ARG_ERROR when input_dims->n is below 1.
 */
arm_cmsis_nn_status arm_fully_connected_s8(const cmsis_nn_context *ctx,
                                           const cmsis_nn_fc_params *fc_params,
                                           const cmsis_nn_per_tensor_quant_params *quant_params,
                                           const cmsis_nn_dims *input_dims,
                                           const int8_t *input_data,
                                           const cmsis_nn_dims *filter_dims,
                                           const int8_t *filter_data,
                                           const cmsis_nn_dims *bias_dims,
                                           const int32_t *bias_data,
                                           const cmsis_nn_dims *output_dims,
                                           int8_t *output_data);

/* As arm_fully_connected_s8, with a multiplier and shift per output. */
arm_cmsis_nn_status arm_fully_connected_per_channel_s8(const cmsis_nn_context *ctx,
                                                       const cmsis_nn_fc_params *fc_params,
                                                       const cmsis_nn_per_channel_quant_params *quant_params,
                                                       const cmsis_nn_dims *input_dims,
                                                       const int8_t *input_data,
                                                       const cmsis_nn_dims *filter_dims,
                                                       const int8_t *filter_data,
                                                       const cmsis_nn_dims *bias_dims,
                                                       const int32_t *bias_data,
                                                       const cmsis_nn_dims *output_dims,
                                                       int8_t *output_data);

int32_t arm_fully_connected_s8_get_buffer_size(const cmsis_nn_dims *filter_dims);
int32_t arm_fully_connected_s8_get_buffer_size_dsp(const cmsis_nn_dims *filter_dims);
int32_t arm_fully_connected_s8_get_buffer_size_mve(const cmsis_nn_dims *filter_dims);

/*
 * s8 max pooling: the largest in-bounds tap (padding taps are ignored),
 * then the activation clamp.
 *   input_dims   [N, H, W, C]; filter_dims h, w; output_dims [N, H, W, C]
 * Returns ARM_CMSIS_NN_ARG_ERROR when input_dims->n is below 1.
 */
arm_cmsis_nn_status arm_max_pool_s8(const cmsis_nn_context *ctx,
                                    const cmsis_nn_pool_params *pool_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data);

/*
 * s8 average pooling over the in-bounds taps only: with sum and count of
 * those taps, avg = (sum +/- count / 2) / count rounded away from zero at
 * halves (C division), then the activation clamp.
 * Returns ARM_CMSIS_NN_ARG_ERROR when input_dims->n is below 1 or a window
 * holds no in-bounds tap.
 */
arm_cmsis_nn_status arm_avgpool_s8(const cmsis_nn_context *ctx,
                                   const cmsis_nn_pool_params *pool_params,
                                   const cmsis_nn_dims *input_dims,
                                   const int8_t *input_data,
                                   const cmsis_nn_dims *filter_dims,
                                   const cmsis_nn_dims *output_dims,
                                   int8_t *output_data);

int32_t arm_avgpool_s8_get_buffer_size(const int dim_dst_width, const int ch_src);
int32_t arm_avgpool_s8_get_buffer_size_dsp(const int dim_dst_width, const int ch_src);
int32_t arm_avgpool_s8_get_buffer_size_mve(const int dim_dst_width, const int ch_src);

/*
 * s8 softmax over each of num_rows rows of row_size values, output scale
 * 1/256 and zero point -128 (TFLite Micro's int8 softmax).
 *   mult, shift  the input rescale (beta * input scale in Q5.26), shift
 *                in [0, 31]
 *   diff_min     values further than this below the row maximum give -128
 */
void arm_softmax_s8(const int8_t *input,
                    const int32_t num_rows,
                    const int32_t row_size,
                    const int32_t mult,
                    const int32_t shift,
                    const int32_t diff_min,
                    int8_t *output);

/* In place: data[i] = min(max(data[i], 0), 6). */
void arm_relu6_s8(int8_t *data, uint16_t size);

#ifdef __cplusplus
}
#endif

#endif /* ARM_NNFUNCTIONS_H */
