/* output.c: streams a layer's or kernel's output back to the host. */
#include "hil_fw.h"

/* Room for the chunk header (layer_chunk is the larger one) in a payload. */
#define CHUNK_BYTES (HIL_MAX_PAYLOAD - sizeof(hil_layer_chunk_t))

uint32_t hil_send_output(uint16_t seq, uint8_t msg, uint16_t index, const q7_t *out,
                         uint32_t size, uint8_t dump, uint16_t max_chunk)
{
    uint32_t step = max_chunk != 0 && max_chunk < CHUNK_BYTES ? max_chunk : (uint32_t)CHUNK_BYTES;
    if (dump == HIL_DUMP_NONE)
        return 0;
    if (dump == HIL_DUMP_ALL) {
        for (uint32_t off = 0; off < size; off += step) {
            uint32_t n = size - off < step ? size - off : step;
            if (msg == HIL_MSG_LAYER_OUTPUT) {
                hil_layer_chunk_t c = { .layer = index, .reserved = 0, .offset = off };
                hil_send(msg, seq, &c, sizeof c, out + off, n);
            } else {
                hil_chunk_t c = { .offset = off };
                hil_send(msg, seq, &c, sizeof c, out + off, n);
            }
        }
    }
    return hil_crc32(0, out, size);
}
