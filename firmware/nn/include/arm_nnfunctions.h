/*
 * arm_nnfunctions.h: hil's portable implementation of the CMSIS-NN legacy
 * q7 API (the power-of-two fixed-point functions of CMSIS_5 <= 5.9.0).
 *
 * Same names, types and signatures as the genuine header, so the firmware
 * builds against either backend by switching include path and sources.
 * Results are bit-exact with the genuine library (golden vectors in
 * conformance/FORMAT.md).
 *
 * Conventions for every function below
 * -------------------------------------
 * Layouts (flat, C order):
 *   images   HWC: [dim_im_in_y][dim_im_in_x][ch]  (square: dim_im_in both)
 *   wt       normal / RGB / 1x1 conv: [ch_im_out][dim_kernel_y][dim_kernel_x][ch_im_in]
 *            depthwise:               [dim_kernel_y][dim_kernel_x][ch_im_in]
 *   bias     [ch_im_out] (conv), [num_of_rows] (fully connected)
 *
 * Requantisation of every convolution and fully-connected output:
 *   acc = (bias << bias_shift) + ((1 << out_shift) >> 1) + sum(in * wt)
 *   out = saturate_q7(acc >> out_shift)          (arithmetic shift)
 * i.e. round half up. Ranges: bias_shift and out_shift 0..31 with the
 * 32-bit accumulator never overflowing (127 * 2^bias_shift + rounding +
 * K * 16384 < 2^31, K = products per output). Shifts of 32 or more are
 * treated as 31 (the genuine code is undefined there).
 *
 * Geometry: output pixel (oy, ox) uses the window whose top-left corner is
 * (oy*stride_y - padding_y, ox*stride_x - padding_x); padding is zero.
 * The caller passes dim_im_out; the functions never compute it. Use
 *   dim_out = (dim_in + 2*padding - kernel) / stride + 1.
 *
 * Status: the functions returning arm_status return ARM_MATH_SUCCESS, or
 * ARM_MATH_SIZE_MISMATCH when a constraint listed below fails; they write
 * nothing to any buffer then.
 *
 * Scratch: the sizes below are what callers must provide (the genuine
 * library's contract), and this backend may use all of them. On cores with
 * the DSP extension, a word-aligned bufferA of the normal, RGB and 1x1
 * convolutions holds widened operands (the whole documented size; faster);
 * otherwise it holds two byte columns of ch_im_in*dim_kernel_x*dim_kernel_y
 * q7 values (half of it). The other scratch buffers are unused. Scratch
 * needs no alignment beyond its type.
 *
 * Build-time switches
 * -------------------
 * ARM_MATH_DSP          Selects the DSP (SIMD) path of the two pooling
 *                       functions. Defined automatically when the compiler
 *                       targets a core with the DSP extension
 *                       (__ARM_FEATURE_DSP), like the genuine headers.
 * HIL_NN_POOL_DSP       Force the DSP pooling path (e.g. host builds).
 * HIL_NN_POOL_PLAIN     Force the plain-C pooling path.
 * HIL_TEST_WRONG_ROUNDING  TEST ONLY. Drops the rounding constant from the
 *                       requantisation of every convolution and
 *                       fully-connected function (truncates instead of
 *                       rounding half up), so tests can prove that a wrong
 *                       kernel is caught. Never ship an image built with it.
 * All other functions compute the same on both paths. HIL_NN_POOL_SEPARABLE
 * (arm_nn_math_types.h) says which pooling path a build carries.
 */
#ifndef ARM_NNFUNCTIONS_H
#define ARM_NNFUNCTIONS_H

#include <stdint.h>

#include "arm_nn_math_types.h"
#include "arm_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Backend identification for firmware that reports what it carries. */
#define HIL_NN_BACKEND_PORTABLE 1

/* ---------------------------------------------------------------------
 * Convolutions
 * ------------------------------------------------------------------- */

/*
 * Square HWC convolution, any channel counts.
 *   Im_in      [dim_im_in][dim_im_in][ch_im_in]
 *   wt         [ch_im_out][dim_kernel][dim_kernel][ch_im_in]
 *   bias       [ch_im_out]
 *   Im_out     [dim_im_out][dim_im_out][ch_im_out]
 *   bufferA    2*ch_im_in*dim_kernel*dim_kernel q15_t
 *   bufferB    unused (pass NULL or anything)
 */
arm_status arm_convolve_HWC_q7_basic(const q7_t *Im_in,
                                     const uint16_t dim_im_in,
                                     const uint16_t ch_im_in,
                                     const q7_t *wt,
                                     const uint16_t ch_im_out,
                                     const uint16_t dim_kernel,
                                     const uint16_t padding,
                                     const uint16_t stride,
                                     const q7_t *bias,
                                     const uint16_t bias_shift,
                                     const uint16_t out_shift,
                                     q7_t *Im_out,
                                     const uint16_t dim_im_out,
                                     q15_t *bufferA,
                                     q7_t *bufferB);

/*
 * As arm_convolve_HWC_q7_basic. Constraints: ch_im_in % 4 == 0 and
 * ch_im_out % 2 == 0 (else ARM_MATH_SIZE_MISMATCH). The genuine library
 * also needs dim_im_out from the formula and padding <= dim_im_out; this
 * backend clips every window and does not depend on that.
 *   bufferA    2*ch_im_in*dim_kernel*dim_kernel q15_t
 */
arm_status arm_convolve_HWC_q7_fast(const q7_t *Im_in,
                                    const uint16_t dim_im_in,
                                    const uint16_t ch_im_in,
                                    const q7_t *wt,
                                    const uint16_t ch_im_out,
                                    const uint16_t dim_kernel,
                                    const uint16_t padding,
                                    const uint16_t stride,
                                    const q7_t *bias,
                                    const uint16_t bias_shift,
                                    const uint16_t out_shift,
                                    q7_t *Im_out,
                                    const uint16_t dim_im_out,
                                    q15_t *bufferA,
                                    q7_t *bufferB);

/*
 * As arm_convolve_HWC_q7_basic for ch_im_in == 3 (else
 * ARM_MATH_SIZE_MISMATCH). The genuine library reads one byte past the last
 * input pixel: give Im_in one spare byte when switching backends.
 *   bufferA    2*3*dim_kernel*dim_kernel q15_t
 */
arm_status arm_convolve_HWC_q7_RGB(const q7_t *Im_in,
                                   const uint16_t dim_im_in,
                                   const uint16_t ch_im_in,
                                   const q7_t *wt,
                                   const uint16_t ch_im_out,
                                   const uint16_t dim_kernel,
                                   const uint16_t padding,
                                   const uint16_t stride,
                                   const q7_t *bias,
                                   const uint16_t bias_shift,
                                   const uint16_t out_shift,
                                   q7_t *Im_out,
                                   const uint16_t dim_im_out,
                                   q15_t *bufferA,
                                   q7_t *bufferB);

/*
 * Non-square form of arm_convolve_HWC_q7_basic, any channel counts.
 *   Im_in      [dim_im_in_y][dim_im_in_x][ch_im_in]
 *   wt         [ch_im_out][dim_kernel_y][dim_kernel_x][ch_im_in]
 *   Im_out     [dim_im_out_y][dim_im_out_x][ch_im_out]
 *   bufferA    2*ch_im_in*dim_kernel_x*dim_kernel_y q15_t
 *   bufferB    unused
 */
arm_status arm_convolve_HWC_q7_basic_nonsquare(const q7_t *Im_in,
                                               const uint16_t dim_im_in_x,
                                               const uint16_t dim_im_in_y,
                                               const uint16_t ch_im_in,
                                               const q7_t *wt,
                                               const uint16_t ch_im_out,
                                               const uint16_t dim_kernel_x,
                                               const uint16_t dim_kernel_y,
                                               const uint16_t padding_x,
                                               const uint16_t padding_y,
                                               const uint16_t stride_x,
                                               const uint16_t stride_y,
                                               const q7_t *bias,
                                               const uint16_t bias_shift,
                                               const uint16_t out_shift,
                                               q7_t *Im_out,
                                               const uint16_t dim_im_out_x,
                                               const uint16_t dim_im_out_y,
                                               q15_t *bufferA,
                                               q7_t *bufferB);

/*
 * Non-square form of arm_convolve_HWC_q7_fast. Constraints: ch_im_in % 4
 * == 0 and ch_im_out % 2 == 0 (genuine library also: formula output sizes,
 * padding_x <= dim_im_out_x, padding_y <= dim_im_out_y).
 *   bufferA    2*ch_im_in*dim_kernel_x*dim_kernel_y q15_t
 */
arm_status arm_convolve_HWC_q7_fast_nonsquare(const q7_t *Im_in,
                                              const uint16_t dim_im_in_x,
                                              const uint16_t dim_im_in_y,
                                              const uint16_t ch_im_in,
                                              const q7_t *wt,
                                              const uint16_t ch_im_out,
                                              const uint16_t dim_kernel_x,
                                              const uint16_t dim_kernel_y,
                                              const uint16_t padding_x,
                                              const uint16_t padding_y,
                                              const uint16_t stride_x,
                                              const uint16_t stride_y,
                                              const q7_t *bias,
                                              const uint16_t bias_shift,
                                              const uint16_t out_shift,
                                              q7_t *Im_out,
                                              const uint16_t dim_im_out_x,
                                              const uint16_t dim_im_out_y,
                                              q15_t *bufferA,
                                              q7_t *bufferB);

/*
 * Pointwise (1x1) convolution. Constraints: dim_kernel_x == dim_kernel_y
 * == 1, padding_x == padding_y == 0, stride_x == stride_y == 1,
 * ch_im_in % 4 == 0, ch_im_out % 2 == 0. Output dimensions equal the input
 * dimensions.
 *   wt         [ch_im_out][ch_im_in]
 *   bufferA    2*ch_im_in q15_t (used on cores with the DSP extension)
 */
arm_status arm_convolve_1x1_HWC_q7_fast_nonsquare(const q7_t *Im_in,
                                                  const uint16_t dim_im_in_x,
                                                  const uint16_t dim_im_in_y,
                                                  const uint16_t ch_im_in,
                                                  const q7_t *wt,
                                                  const uint16_t ch_im_out,
                                                  const uint16_t dim_kernel_x,
                                                  const uint16_t dim_kernel_y,
                                                  const uint16_t padding_x,
                                                  const uint16_t padding_y,
                                                  const uint16_t stride_x,
                                                  const uint16_t stride_y,
                                                  const q7_t *bias,
                                                  const uint16_t bias_shift,
                                                  const uint16_t out_shift,
                                                  q7_t *Im_out,
                                                  const uint16_t dim_im_out_x,
                                                  const uint16_t dim_im_out_y,
                                                  q15_t *bufferA,
                                                  q7_t *bufferB);

/*
 * Depthwise convolution, channel multiplier 1 (despite the name, no
 * pointwise part). Constraint: ch_im_out == ch_im_in. Output channel c sums
 * in[y][x][c] * wt[ky][kx][c] over the in-bounds taps.
 *   wt         [dim_kernel][dim_kernel][ch_im_in]
 *   bufferA    2*ch_im_in*dim_kernel*dim_kernel q15_t (unused here)
 *   bufferB    unused
 */
arm_status arm_depthwise_separable_conv_HWC_q7(const q7_t *Im_in,
                                               const uint16_t dim_im_in,
                                               const uint16_t ch_im_in,
                                               const q7_t *wt,
                                               const uint16_t ch_im_out,
                                               const uint16_t dim_kernel,
                                               const uint16_t padding,
                                               const uint16_t stride,
                                               const q7_t *bias,
                                               const uint16_t bias_shift,
                                               const uint16_t out_shift,
                                               q7_t *Im_out,
                                               const uint16_t dim_im_out,
                                               q15_t *bufferA,
                                               q7_t *bufferB);

/*
 * Non-square form of arm_depthwise_separable_conv_HWC_q7. Constraint:
 * ch_im_out == ch_im_in.
 *   wt         [dim_kernel_y][dim_kernel_x][ch_im_in]
 *   bufferA    2*ch_im_in*dim_kernel_x*dim_kernel_y q15_t (unused here)
 */
arm_status arm_depthwise_separable_conv_HWC_q7_nonsquare(const q7_t *Im_in,
                                                         const uint16_t dim_im_in_x,
                                                         const uint16_t dim_im_in_y,
                                                         const uint16_t ch_im_in,
                                                         const q7_t *wt,
                                                         const uint16_t ch_im_out,
                                                         const uint16_t dim_kernel_x,
                                                         const uint16_t dim_kernel_y,
                                                         const uint16_t padding_x,
                                                         const uint16_t padding_y,
                                                         const uint16_t stride_x,
                                                         const uint16_t stride_y,
                                                         const q7_t *bias,
                                                         const uint16_t bias_shift,
                                                         const uint16_t out_shift,
                                                         q7_t *Im_out,
                                                         const uint16_t dim_im_out_x,
                                                         const uint16_t dim_im_out_y,
                                                         q15_t *bufferA,
                                                         q7_t *bufferB);

/* ---------------------------------------------------------------------
 * Fully connected
 * ------------------------------------------------------------------- */

/*
 * pOut[r] = requantise(bias[r], sum_c pM[r*dim_vec + c] * pV[c]).
 *   pV         [dim_vec]
 *   pM         [num_of_rows][dim_vec] row-major
 *   bias, pOut [num_of_rows]
 *   vec_buffer dim_vec q15_t (unused by this backend)
 */
arm_status arm_fully_connected_q7(const q7_t *pV,
                                  const q7_t *pM,
                                  const uint16_t dim_vec,
                                  const uint16_t num_of_rows,
                                  const uint16_t bias_shift,
                                  const uint16_t out_shift,
                                  const q7_t *bias,
                                  q7_t *pOut,
                                  q15_t *vec_buffer);

/*
 * Same result as arm_fully_connected_q7 with pM pre-interleaved: for each
 * complete block of 4 rows r0..r3 and each complete group of 4 columns
 * c..c+3, 16 bytes (row, col):
 *   (r0,c)(r1,c)(r0,c+2)(r1,c+2)(r2,c)(r3,c)(r2,c+2)(r3,c+2)
 *   (r0,c+1)(r1,c+1)(r0,c+3)(r1,c+3)(r2,c+1)(r3,c+1)(r2,c+3)(r3,c+3)
 * then, per leftover column c of the block, (r0,c)(r1,c)(r2,c)(r3,c); after
 * all blocks, the num_of_rows % 4 leftover rows in row-major order. This is
 * the output of CMSIS's convert_to_x4_q7_weights. Any sizes.
 *   vec_buffer dim_vec q15_t (unused by this backend)
 */
arm_status arm_fully_connected_q7_opt(const q7_t *pV,
                                      const q7_t *pM,
                                      const uint16_t dim_vec,
                                      const uint16_t num_of_rows,
                                      const uint16_t bias_shift,
                                      const uint16_t out_shift,
                                      const q7_t *bias,
                                      q7_t *pOut,
                                      q15_t *vec_buffer);

/* ---------------------------------------------------------------------
 * Activations
 * ------------------------------------------------------------------- */

/* In place over size elements: negative values become 0. */
void arm_relu_q7(q7_t *data, uint16_t size);

/*
 * In place over size elements:
 *   data[i] = table[(uint8_t)(data[i] >> (3 - int_width))]
 * with sigmoidTable_q7 for ARM_SIGMOID and tanhTable_q7 for any other type
 * (arm_nn_tables.h). int_width is the integer bits of the input, 0..3;
 * larger values are treated as 3 (the genuine code is undefined there).
 */
void arm_nn_activations_direct_q7(q7_t *data,
                                  uint16_t size,
                                  uint16_t int_width,
                                  arm_nn_activation_type type);

/*
 * Base-2 integer softmax approximation over dim_vec (1..32767) elements.
 * With m = max(vec_in), base = m - 8, e_i = clamp(x_i - base, 0, 7),
 * S = sum 2^e_i, B = 2^20 / S:
 *   p_out[i] = saturate_q7(B >> clamp(13 + base - x_i, 0, 31)).
 * Works in place (vec_in == p_out). dim_vec == 0 writes nothing.
 */
void arm_softmax_q7(const q7_t *vec_in, const uint16_t dim_vec, q7_t *p_out);

/* ---------------------------------------------------------------------
 * Pooling
 * ------------------------------------------------------------------- */

/*
 * Square max pooling of Im_in [dim_im_in][dim_im_in][ch_im_in] into
 * Im_out [dim_im_out][dim_im_out][ch_im_in]; requires dim_im_out <=
 * dim_im_in.
 *   bufferA    unused
 * Plain path: max over the in-bounds part of each window; Im_in unchanged;
 * a window with no in-bounds element gives 127 ((q7_t)-129).
 * DSP path (ARM_MATH_DSP): the genuine separable two-pass algorithm. Pass 1
 * works in place on every row of Im_in (Im_in is clobbered): column ox
 * becomes the max of the current contents of columns [start, end) where
 * start = ox*stride - padding, or ox itself when that is negative, and end
 * = min(ox*stride - padding + dim_kernel, dim_im_in). Pass 2 takes, for
 * each output row, the max over the clipped rows of pass 1's first
 * dim_im_out columns. Equals textbook pooling when padding <= stride - 1.
 */
void arm_maxpool_q7_HWC(q7_t *Im_in,
                        const uint16_t dim_im_in,
                        const uint16_t ch_im_in,
                        const uint16_t dim_kernel,
                        const uint16_t padding,
                        const uint16_t stride,
                        const uint16_t dim_im_out,
                        q7_t *bufferA,
                        q7_t *Im_out);

/*
 * Square average pooling, same geometry and paths as arm_maxpool_q7_HWC.
 * Averages are C integer division (truncation toward zero) over the
 * in-bounds elements only (padding is excluded from the count).
 *   bufferA    2*dim_im_out*ch_im_in bytes (unused by this backend)
 * Plain path: trunc(sum / count) over the clipped window (count 0 gives 0,
 * as a Cortex-M integer divide by zero does). DSP path: truncates once per
 * pass (x in place over Im_in, then y), so results can differ from the
 * plain path by +-1, and by much more when padding >= stride.
 */
void arm_avepool_q7_HWC(q7_t *Im_in,
                        const uint16_t dim_im_in,
                        const uint16_t ch_im_in,
                        const uint16_t dim_kernel,
                        const uint16_t padding,
                        const uint16_t stride,
                        const uint16_t dim_im_out,
                        q7_t *bufferA,
                        q7_t *Im_out);

#ifdef __cplusplus
}
#endif

#endif /* ARM_NNFUNCTIONS_H */
