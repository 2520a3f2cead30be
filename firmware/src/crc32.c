/* crc32.c: CRC-32 (IEEE), shared by frame checks and layer-output digests. */
#include "hil_fw.h"

static uint32_t table[256];
static int table_ready;

static void build_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
        table[i] = c;
    }
    table_ready = 1;
}

/* Chainable like zlib.crc32: hil_crc32(hil_crc32(0, a, n), b, m). */
uint32_t hil_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (!table_ready)
        build_table();
    crc = ~crc;
    while (len--)
        crc = table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}
