/*
 * arm_nn_math_types.h: types plus the build-time path selection of hil's
 * portable CMSIS-NN backend (firmware/nn).
 *
 * Like the genuine header, ARM_MATH_DSP is switched on when the compiler
 * targets a core with the DSP extension. Only the two pooling functions
 * compute differently on the two paths; HIL_NN_POOL_DSP / HIL_NN_POOL_PLAIN
 * force one path (host builds, tests).
 */
#ifndef ARM_NN_MATH_TYPES_H
#define ARM_NN_MATH_TYPES_H

#include "arm_math_types.h"

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(ARM_MATH_DSP)
#define ARM_MATH_DSP 1
#endif

#if defined(HIL_NN_POOL_DSP) && defined(HIL_NN_POOL_PLAIN)
#error "define at most one of HIL_NN_POOL_DSP and HIL_NN_POOL_PLAIN"
#endif

/* HIL_NN_POOL_SEPARABLE: 1 when pooling computes what the genuine DSP path
 * computes, 0 for the plain-C path. Firmware reports this as its variant. */
#if defined(HIL_NN_POOL_DSP)
#define HIL_NN_POOL_SEPARABLE 1
#elif defined(HIL_NN_POOL_PLAIN)
#define HIL_NN_POOL_SEPARABLE 0
#elif defined(ARM_MATH_DSP)
#define HIL_NN_POOL_SEPARABLE 1
#else
#define HIL_NN_POOL_SEPARABLE 0
#endif

#endif /* ARM_NN_MATH_TYPES_H */
