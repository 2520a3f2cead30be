/*
 * frame.c: COBS framing with a 0x00 delimiter and a trailing CRC-32.
 *
 * Transmit is streamed: one 254-byte COBS block is the only buffer, so a
 * layer output never needs a second copy. Receive keeps one encoded frame
 * and refuses anything longer than HIL_MAX_ENCODED before storing it.
 */
#include <string.h>

#include "hal.h"
#include "hil_fw.h"

static struct {
    uint8_t block[254];
    uint8_t count;
    uint32_t crc;
} tx;

static void cobs_put(uint8_t byte)
{
    if (byte == 0) {
        hal_uart_putc((uint8_t)(tx.count + 1));
        for (uint8_t i = 0; i < tx.count; i++)
            hal_uart_putc(tx.block[i]);
        tx.count = 0;
        return;
    }
    tx.block[tx.count++] = byte;
    if (tx.count == 254) {
        hal_uart_putc(0xFF);
        for (uint8_t i = 0; i < tx.count; i++)
            hal_uart_putc(tx.block[i]);
        tx.count = 0;
    }
}

void hil_tx_bytes(const void *data, size_t len)
{
    const uint8_t *p = data;
    tx.crc = hil_crc32(tx.crc, p, len);
    while (len--)
        cobs_put(*p++);
}

void hil_tx_begin(uint8_t type, uint16_t seq, uint16_t length)
{
    hil_header_t h = { .type = type, .flags = 0, .seq = seq, .length = length };
    hal_watchdog_feed();   /* a frame going out is progress */
    tx.count = 0;
    tx.crc = 0;
    hil_tx_bytes(&h, sizeof h);
}

void hil_tx_end(void)
{
    uint32_t crc = tx.crc;
    for (int i = 0; i < 4; i++)
        cobs_put((uint8_t)(crc >> (8 * i)));
    /* Final block: its code byte has no implied zero after it. */
    hal_uart_putc((uint8_t)(tx.count + 1));
    for (uint8_t i = 0; i < tx.count; i++)
        hal_uart_putc(tx.block[i]);
    tx.count = 0;
    hal_uart_putc(0x00);
}

void hil_send(uint8_t type, uint16_t seq, const void *a, size_t a_len, const void *b,
              size_t b_len)
{
    hil_tx_begin(type, seq, (uint16_t)(a_len + b_len));
    if (a_len)
        hil_tx_bytes(a, a_len);
    if (b_len)
        hil_tx_bytes(b, b_len);
    hil_tx_end();
}

void hil_send_ack(uint16_t seq, uint16_t status, uint32_t value)
{
    hil_ack_t ack = { .status = status, .reserved = 0, .value = value };
    hil_send(HIL_MSG_ACK, seq, &ack, sizeof ack, NULL, 0);
}

void hil_send_error(uint16_t seq, uint16_t status, uint8_t request_type, const char *detail)
{
    hil_error_t err = { .status = status, .request_type = request_type, .reserved = 0 };
    size_t n = detail ? strlen(detail) : 0;
    if (n > HIL_ERROR_DETAIL_MAX)
        n = HIL_ERROR_DETAIL_MAX;
    hil_send(HIL_MSG_ERROR, seq, &err, sizeof err, detail, n);
}

static uint8_t rx[HIL_MAX_ENCODED];

/* In-place COBS decode; returns the decoded length or -1 if malformed. */
static int cobs_decode(uint8_t *buf, size_t n)
{
    size_t in = 0, out = 0;
    while (in < n) {
        uint8_t code = buf[in++];
        if (code == 0 || in + code - 1 > n)
            return -1;
        for (uint8_t i = 1; i < code; i++)
            buf[out++] = buf[in++];
        if (code != 0xFF && in < n)
            buf[out++] = 0;
    }
    return (int)out;
}

static uint32_t read_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

const hil_header_t *hil_recv(const uint8_t **payload)
{
    size_t n = 0;
    int overflow = 0;
    for (;;) {
        uint8_t b = hal_uart_getc();
        if (b != 0) {
            if (n < sizeof rx)
                rx[n++] = b;
            else
                overflow = 1;
            continue;
        }
        if (overflow) {
            hil_send_error(0, HIL_STATUS_BAD_FRAME, 0, "frame longer than HIL_MAX_ENCODED");
        } else if (n > 0) {
            int len = cobs_decode(rx, n);
            const hil_header_t *h = (const hil_header_t *)rx;
            if (len < (int)(HIL_HEADER_BYTES + HIL_CRC_BYTES)) {
                hil_send_error(0, HIL_STATUS_BAD_FRAME, 0, "malformed frame");
            } else if (hil_crc32(0, rx, (size_t)len - 4) != read_le32(rx + len - 4)) {
                hil_send_error(h->seq, HIL_STATUS_BAD_CRC, h->type, "CRC mismatch");
            } else if (h->length != (uint16_t)(len - HIL_HEADER_BYTES - HIL_CRC_BYTES)) {
                hil_send_error(h->seq, HIL_STATUS_BAD_LENGTH, h->type, "header length");
            } else {
                *payload = rx + HIL_HEADER_BYTES;
                return h;
            }
        }
        n = 0;
        overflow = 0;
    }
}
