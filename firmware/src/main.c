/* main.c: announce the image, then serve one request at a time. */
#include "hal.h"
#include "hil_fw.h"

int main(void)
{
    hal_init();
    hil_send_hello(0);
    for (;;) {
        const uint8_t *payload;
        const hil_header_t *hdr = hil_recv(&payload);
        hil_dispatch(hdr, payload);
    }
}
