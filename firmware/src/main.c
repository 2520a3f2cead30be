/* main.c: announce the image, then serve one request at a time. */
#include "hal.h"
#include "hil_fw.h"

/* Milliseconds without progress before the watchdog fires; the host
 * derives it from the board and the model's largest layer (0: off). */
#ifndef HIL_WATCHDOG_MS
#define HIL_WATCHDOG_MS 0u
#endif

int main(void)
{
    hal_init();
    hal_watchdog_start(HIL_WATCHDOG_MS);
    hil_send_hello(0);
    for (;;) {
        const uint8_t *payload;
        const hil_header_t *hdr = hil_recv(&payload);
        hil_dispatch(hdr, payload);
    }
}
