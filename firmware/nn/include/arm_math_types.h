/*
 * arm_math_types.h: the fixed-point types and status codes of the CMSIS
 * legacy q7 API, for hil's portable kernel backend (firmware/nn).
 *
 * Mirrors the names and values of the genuine CMSIS-DSP header so that the
 * same firmware source builds against either backend.
 */
#ifndef ARM_MATH_TYPES_H
#define ARM_MATH_TYPES_H

#include <stdint.h>

typedef int8_t q7_t;
typedef int16_t q15_t;
typedef int32_t q31_t;
typedef int64_t q63_t;

typedef enum {
    ARM_MATH_SUCCESS = 0,
    ARM_MATH_ARGUMENT_ERROR = -1,
    ARM_MATH_LENGTH_ERROR = -2,
    ARM_MATH_SIZE_MISMATCH = -3,
    ARM_MATH_NANINF = -4,
    ARM_MATH_SINGULAR = -5,
    ARM_MATH_TEST_FAILURE = -6,
    ARM_MATH_DECOMPOSITION_FAILURE = -7
} arm_status;

#endif /* ARM_MATH_TYPES_H */
