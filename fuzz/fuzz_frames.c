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
 * KERNEL_RUN is parsed by the dispatcher's length checks but its kernel call
 * is not made: the device trusts the scalar parameters of a single-kernel
 * call (the host checks them against KERNEL_SPECS), so a fuzzed parameter
 * set would only find the kernels' documented preconditions.
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

void hal_uart_putc(uint8_t byte) { tx_sink += byte; }

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in_data = data;
    in_left = size;
    if (setjmp(input_done) == 0) {
        for (;;) {
            const uint8_t *payload;
            const hil_header_t *hdr = hil_recv(&payload);
            if (hdr->type == HIL_MSG_KERNEL_RUN && hdr->length >= sizeof(hil_kernel_run_t)) {
                hil_kernel_run_t r;
                memcpy(&r, payload, sizeof r);
                if (hdr->length == sizeof r + 4u * r.n_params)
                    continue; /* well-formed: the call itself is out of scope (see above) */
            }
            hil_dispatch(hdr, payload);
        }
    }
    return 0;
}
