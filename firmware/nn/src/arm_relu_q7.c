/*
 * arm_relu_q7: in-place ReLU. Semantics: arm_nnfunctions.h.
 *
 * Four values per 32-bit word, in portable C: the sign bits of a word give a
 * mask of its negative bytes, which are then cleared. Works on every core
 * (no SIMD instructions needed) and on any alignment.
 */
#include "hil_nn_internal.h"

/* Word-aligned blocks of 16 bytes per pass of the main loop. */
#define RELU_BLOCK 16u

/* The word with its negative bytes set to zero: the sign bits, moved to
 * the bottom of their bytes and multiplied by 0xFF, fill exactly the
 * negative bytes (0 or 1 times 0xFF never carries into the next byte). */
static inline uint32_t relu_word(uint32_t w)
{
    const uint32_t signs = w & 0x80808080u;
    return w & ~((signs >> 7) * 0xFFu);
}

static inline void relu_bytes(q7_t *p, uint32_t n)
{
    for (; n > 0u; n--, p++) {
        if (*p < 0) {
            *p = 0;
        }
    }
}

void arm_relu_q7(q7_t *data, uint16_t size)
{
    uint32_t left = size;
    q7_t *p = data;

    if (left >= RELU_BLOCK + 3u) {
        /* bytes up to the first word boundary, so the blocks load whole
         * words (in pairs where the core can) */
        const uint32_t head = (0u - (uint32_t)(uintptr_t)p) & 3u;
        relu_bytes(p, head);
        p += head;
        left -= head;
        for (; left >= RELU_BLOCK; left -= RELU_BLOCK, p += RELU_BLOCK) {
            uint32_t w[RELU_BLOCK / 4u];
            q7_t *block = __builtin_assume_aligned(p, 4);
            memcpy(w, block, sizeof w);
            w[0] = relu_word(w[0]);
            w[1] = relu_word(w[1]);
            w[2] = relu_word(w[2]);
            w[3] = relu_word(w[3]);
            memcpy(block, w, sizeof w);
        }
    }
    for (; left >= 4u; left -= 4u, p += 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        w = relu_word(w);
        memcpy(p, &w, 4);
    }
    relu_bytes(p, left);
}
