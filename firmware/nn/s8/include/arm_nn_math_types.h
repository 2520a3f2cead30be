/*
 * arm_nn_math_types.h: fixed-width types, limits and the build-time path
 * selection of hil's portable s8 kernels (firmware/nn/s8).
 *
 * Same macro names as the CMSIS-NN (>= 4.0) header of this name, so code
 * written against the genuine library builds against this one:
 *   ARM_MATH_DSP   on when the compiler targets a core with the DSP
 *                  extension (Cortex-M4/M7/M33/M55); the convolution and
 *                  fully-connected dot products then use dual 16-bit MACs.
 *   ARM_MATH_MVEI  on when the compiler targets Helium (MVE integer);
 *                  those dot products then use 16-lane vector MACs.
 * Every path gives the same bytes.
 */
#ifndef ARM_NN_MATH_TYPES_H
#define ARM_NN_MATH_TYPES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(ARM_MATH_DSP)
#define ARM_MATH_DSP 1
#endif

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(ARM_MATH_MVEI)
#define ARM_MATH_MVEI 1
#endif

#define NN_Q31_MAX ((int32_t)(0x7FFFFFFFL))
#define NN_Q15_MAX ((int16_t)(0x7FFF))
#define NN_Q7_MAX ((int8_t)(0x7F))
#define NN_Q31_MIN ((int32_t)(0x80000000L))
#define NN_Q15_MIN ((int16_t)(0x8000))
#define NN_Q7_MIN ((int8_t)(0x80))

#ifdef __cplusplus
}
#endif

#endif /* ARM_NN_MATH_TYPES_H */
