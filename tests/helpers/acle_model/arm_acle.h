/*
 * C models of the two ACLE SIMD intrinsics firmware/nn uses, so the host
 * test build runs the Cortex-M4/M7 inner loops (nnlib.build_library with
 * simd_model=True). Semantics per the Arm ARM: SXTB16 sign-extends bytes 0
 * and 2 into two halfwords; SMLAD adds both halfword products to the
 * accumulator, wrapping modulo 2^32.
 */
#ifndef HIL_NN_ACLE_MODEL_H
#define HIL_NN_ACLE_MODEL_H

#include <stdint.h>

typedef int32_t int16x2_t;
typedef int32_t int8x4_t;

static inline int16x2_t __sxtb16(int8x4_t a)
{
    const uint32_t u = (uint32_t)a;
    const uint32_t lo = (uint16_t)(int16_t)(int8_t)(uint8_t)(u & 0xFFu);
    const uint32_t hi = (uint16_t)(int16_t)(int8_t)(uint8_t)((u >> 16) & 0xFFu);
    return (int16x2_t)((hi << 16) | lo);
}

static inline int32_t __smlad(int16x2_t a, int16x2_t b, int32_t c)
{
    const int32_t lo = (int32_t)(int16_t)(uint16_t)((uint32_t)a & 0xFFFFu) *
                       (int32_t)(int16_t)(uint16_t)((uint32_t)b & 0xFFFFu);
    const int32_t hi = (int32_t)(int16_t)(uint16_t)((uint32_t)a >> 16) *
                       (int32_t)(int16_t)(uint16_t)((uint32_t)b >> 16);
    return (int32_t)((uint32_t)c + (uint32_t)lo + (uint32_t)hi);
}

#endif /* HIL_NN_ACLE_MODEL_H */
