/*
 * fuzz_frames.c: libFuzzer target for the firmware's frame parser and
 * request dispatcher (firmware/src/frame.c, dispatch.c, kernel.c, runner.c),
 * built for the host with AddressSanitizer and UBSan by scripts/fuzz_frames.py.
 *
 * The fuzz input is the byte stream the UART delivers; every frame in it is
 * parsed and dispatched exactly as on a board, replies go nowhere but are
 * produced in full (so the encoder runs too). When the input is used up,
 * hal_uart_getc jumps back here.
 *
 * Then the same bytes are read a second way, as requests [type][flags]
 * [length u16][payload] handed to the dispatcher as received frames: each
 * arrives intact, header flags included, so mutations land in the requests
 * themselves (region sizes, KERNEL_RUN parameters, zero-run coded inputs)
 * instead of being dropped as damaged frames.
 *
 * A well-formed KERNEL_RUN reaches the kernels through the device's own
 * checks (firmware/src/kcheck.c), so fuzzed parameters probe those checks:
 * any call they let through must stay inside the kernel arena. The target
 * is built with a small HIL_KERNEL_ARENA_BYTES, which bounds every call's
 * work (the regions bound the parameters) to milliseconds.
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hal.h"
#include "hil_fw.h"

static const uint8_t *in_data;
static size_t in_left;
static jmp_buf input_done;
static volatile uint32_t tx_sink;

void hal_init(void) {}

void hal_uart_putc(uint8_t byte)
{
    tx_sink += byte;
}

uint8_t hal_uart_getc(void)
{
    if (in_left == 0)
        longjmp(input_done, 1);
    in_left--;
    return *in_data++;
}

uint64_t hal_cycles_now(void) { return 0; }

enum hal_cycle_source hal_cycle_source(void) { return HAL_CYCLES_HOST; }

uint32_t hal_cycle_source_hz(void) { return 1000000000u; }

void hal_reset(void) { longjmp(input_done, 1); }

void hal_watchdog_start(uint32_t ms) { (void)ms; }

void hal_watchdog_feed(void) {}

enum hal_reset_cause hal_reset_cause(void) { return HAL_RESET_UNKNOWN; }

static void serve(const uint8_t *data, size_t size)
{
    in_data = data;
    in_left = size;
    if (setjmp(input_done) == 0) {
        for (;;) {
            const uint8_t *payload;
            const hil_header_t *hdr = hil_recv(&payload);
            hil_dispatch(hdr, payload);
        }
    }
}

/* The input read as requests, each dispatched as an intact frame. */
static void serve_requests(const uint8_t *data, size_t size)
{
    static uint8_t payload[HIL_MAX_PAYLOAD];
    uint16_t seq = 1;
    in_left = 0; /* a request that reads the UART ends the pass */
    if (setjmp(input_done) != 0)
        return;
    while (size >= 4) {
        hil_header_t h = { .type = data[0], .flags = data[1], .seq = seq++, .length = 0 };
        size_t len = (size_t)data[2] | (size_t)data[3] << 8;
        data += 4;
        size -= 4;
        len = len < size ? len : size;
        len = len < HIL_MAX_PAYLOAD ? len : HIL_MAX_PAYLOAD;
        memcpy(payload, data, len); /* the dispatcher reads no further than length */
        h.length = (uint16_t)len;
        hil_dispatch(&h, payload);
        data += len;
        size -= len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    serve(data, size);
    serve_requests(data, size);
    return 0;
}
