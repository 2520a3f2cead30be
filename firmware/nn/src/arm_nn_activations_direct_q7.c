/*
 * arm_nn_activations_direct_q7: in-place sigmoid/tanh by table lookup.
 * Semantics: arm_nnfunctions.h; tables: arm_nn_tables.c.
 *
 * Four values per loaded word: each byte is looked up where it sits in the
 * word and the results are put back in the same places, which keeps the
 * code independent of byte order.
 */
#include "arm_nn_tables.h"
#include "hil_nn_internal.h"

/* table entry of the value in bits [8*byte, 8*byte + 8) of w */
static inline uint32_t lookup_byte(const q7_t *table, uint32_t w, uint32_t byte, uint32_t shift)
{
    const int32_t v = (int8_t)(uint8_t)(w >> (8u * byte));
    return (uint32_t)(uint8_t)table[(uint8_t)(v >> shift)] << (8u * byte);
}

void arm_nn_activations_direct_q7(q7_t *data,
                                  uint16_t size,
                                  uint16_t int_width,
                                  arm_nn_activation_type type)
{
    const q7_t *table = type == ARM_SIGMOID ? sigmoidTable_q7 : tanhTable_q7;
    /* the tables take Q3.4; shift the input's fraction point there (no
     * shift for int_width 3 or more) */
    const int32_t to_q3_4 = 3 - (int32_t)int_width;
    const uint32_t shift = to_q3_4 < 0 ? 0u : (uint32_t)to_q3_4;
    q7_t *p = data;
    q7_t *const words_end = data + ((uint32_t)size & ~3u);
    q7_t *const end = data + size;

    for (; p != words_end; p += 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        w = lookup_byte(table, w, 0u, shift) | lookup_byte(table, w, 1u, shift) |
            lookup_byte(table, w, 2u, shift) | lookup_byte(table, w, 3u, shift);
        memcpy(p, &w, 4);
    }
    for (; p != end; p++) {
        *p = table[(uint8_t)(*p >> shift)];
    }
}
