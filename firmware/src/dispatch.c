/* dispatch.c: one handler per request message. */
#include <string.h>

#include "hal.h"
#include "hil_fw.h"
#include "hil_model.h"

#ifndef HIL_BUILD_ID
#define HIL_BUILD_ID "dev"
#endif
#ifndef HIL_BOARD_ID
#define HIL_BOARD_ID "unknown"
#endif
#ifndef HIL_CORE
#define HIL_CORE "unknown"
#endif

_Static_assert(HAL_CYCLES_DWT == HIL_CYCLE_SOURCE_DWT, "cycle source ids");
_Static_assert(HAL_CYCLES_SYSTICK == HIL_CYCLE_SOURCE_SYSTICK, "cycle source ids");
_Static_assert(HAL_CYCLES_HOST == HIL_CYCLE_SOURCE_HOST, "cycle source ids");
_Static_assert(HAL_CYCLES_TIMER == HIL_CYCLE_SOURCE_TIMER, "cycle source ids");
_Static_assert(HAL_RESET_WATCHDOG == HIL_RESET_CAUSE_WATCHDOG, "reset cause ids");
_Static_assert(HAL_RESET_SOFTWARE == HIL_RESET_CAUSE_SOFTWARE, "reset cause ids");
_Static_assert(HAL_RESET_PIN == HIL_RESET_CAUSE_PIN, "reset cause ids");
_Static_assert(HAL_RESET_POWER_ON == HIL_RESET_CAUSE_POWER_ON, "reset cause ids");

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    memcpy(dst, src, n < cap ? n : cap);
}

void hil_send_hello(uint16_t seq)
{
    hil_hello_t h;
    memset(&h, 0, sizeof h);
    h.protocol_version = HIL_PROTOCOL_VERSION;
    h.max_payload = HIL_MAX_PAYLOAD;
    h.protocol_hash = HIL_PROTOCOL_HASH;
    copy_str(h.build_id, sizeof h.build_id, HIL_BUILD_ID);
    memcpy(h.model_hash, hil_model_hash, sizeof h.model_hash);
    memcpy(h.export_hash, hil_export_hash, sizeof h.export_hash);
    copy_str(h.model_name, sizeof h.model_name, hil_model_name);
    copy_str(h.board_id, sizeof h.board_id, HIL_BOARD_ID);
    copy_str(h.core, sizeof h.core, HIL_CORE);
#ifdef HIL_NN_BACKEND_CMSIS_NN
    h.backend = HIL_BACKEND_CMSIS_NN;
#else
    h.backend = HIL_BACKEND_PORTABLE;
#endif
    /* The path the kernels compute: the portable backend says so itself
     * (host builds may force it); the genuine library follows the core. */
#if defined(HIL_NN_POOL_SEPARABLE)
    h.variant = HIL_NN_POOL_SEPARABLE ? HIL_VARIANT_DSP : HIL_VARIANT_PLAIN;
#elif defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP == 1
    h.variant = HIL_VARIANT_DSP;
#else
    h.variant = HIL_VARIANT_PLAIN;
#endif
    /* The kernel family (one per image) and, for s8, its requantisation. */
#if defined(HIL_NN_FAMILY_S8)
    h.family = HIL_FAMILY_S8;
#if defined(CMSIS_NN_USE_SINGLE_ROUNDING)
    h.rounding = HIL_ROUNDING_SINGLE;
#else
    h.rounding = HIL_ROUNDING_DOUBLE;
#endif
#else
    h.family = HIL_FAMILY_Q7;
    h.rounding = HIL_ROUNDING_NONE;
#endif
    h.cycle_source = (uint8_t)hal_cycle_source();
    h.reset_cause = (uint8_t)hal_reset_cause();
    h.cycle_hz = hal_cycle_source_hz();
    h.num_layers = hil_num_layers;
    h.input_size = hil_input_size;
    h.kernel_arena_bytes = hil_kernel_arena_bytes;
    hil_send(HIL_MSG_HELLO, seq, &h, sizeof h, NULL, 0);
}

/* Zero-run coding (enums.frame_flag ZERO_RUN): token t < 0x80 is followed by
 * t + 1 literal bytes, t >= 0x80 stands for t - 0x7F zero bytes. Decoded
 * straight into the input, so it needs no buffer; returns the decoded
 * length, or -1 if the tokens do not fit `room` bytes or end mid-literal. */
static int32_t zero_run_decode(uint8_t *dst, uint32_t room, const uint8_t *src, uint32_t len)
{
    uint32_t out = 0, in = 0;
    while (in < len) {
        uint8_t t = src[in++];
        uint32_t n = t < 0x80u ? t + 1u : t - 0x7Fu;
        if (n > room - out || (t < 0x80u && n > len - in))
            return -1;
        if (t < 0x80u) {
            memcpy(dst + out, src + in, n);
            in += n;
        } else {
            memset(dst + out, 0, n);
        }
        out += n;
    }
    return (int32_t)out;
}

static void load_input(uint16_t seq, uint8_t flags, const uint8_t *payload, uint16_t len)
{
    hil_chunk_t c;
    if (len < sizeof c) {
        hil_send_error(seq, HIL_STATUS_BAD_LENGTH, HIL_MSG_LOAD_INPUT, "chunk size");
        return;
    }
    memcpy(&c, payload, sizeof c);
    uint32_t n = len - (uint32_t)sizeof c;
    if (c.offset > hil_input_size || (!(flags & HIL_FRAME_FLAG_ZERO_RUN) &&
                                      n > hil_input_size - c.offset)) {
        hil_send_error(seq, HIL_STATUS_OUT_OF_RANGE, HIL_MSG_LOAD_INPUT, "beyond input size");
        return;
    }
    if (flags & HIL_FRAME_FLAG_ZERO_RUN) {
        int32_t got = zero_run_decode((uint8_t *)hil_input + c.offset, hil_input_size - c.offset,
                                      payload + sizeof c, n);
        if (got < 0) {
            hil_send_error(seq, HIL_STATUS_OUT_OF_RANGE, HIL_MSG_LOAD_INPUT,
                           "zero-run chunk beyond input size or cut short");
            return;
        }
        n = (uint32_t)got;
    } else {
        memcpy(hil_input + c.offset, payload + sizeof c, n);
    }
    if (!(flags & HIL_FRAME_FLAG_QUIET))
        hil_send_ack(seq, HIL_STATUS_OK, c.offset + n);
}

static void run(uint16_t seq, const uint8_t *payload, uint16_t len)
{
    hil_run_t r;
    if (len != sizeof r) {
        hil_send_error(seq, HIL_STATUS_BAD_LENGTH, HIL_MSG_RUN, "run size");
        return;
    }
    memcpy(&r, payload, sizeof r);
    if (r.dump > HIL_DUMP_SUMMARY) {
        hil_send_error(seq, HIL_STATUS_BAD_REQUEST, HIL_MSG_RUN, "dump mode");
        return;
    }
    hil_run_network(seq, r.dump, r.max_chunk, r.base);
}

static void detail(uint16_t seq, const uint8_t *payload, uint16_t len)
{
    hil_detail_t d;
    if (len != sizeof d) {
        hil_send_error(seq, HIL_STATUS_BAD_LENGTH, HIL_MSG_DETAIL, "detail size");
        return;
    }
    memcpy(&d, payload, sizeof d);
    hil_send_detail(seq, d.run_seq);
}

void hil_dispatch(const hil_header_t *hdr, const uint8_t *payload)
{
    uint16_t seq = hdr->seq, len = hdr->length;
    switch (hdr->type) {
    case HIL_MSG_HELLO_REQ:
        hil_send_hello(seq);
        break;
    case HIL_MSG_LOAD_INPUT:
        load_input(seq, hdr->flags, payload, len);
        break;
    case HIL_MSG_RUN:
        run(seq, payload, len);
        break;
    case HIL_MSG_DETAIL:
        detail(seq, payload, len);
        break;
    case HIL_MSG_KERNEL_SETUP:
        hil_forget_run();
        hil_kernel_setup(seq, payload, len);
        break;
    case HIL_MSG_KERNEL_LOAD:
        hil_kernel_load(seq, payload, len);
        break;
    case HIL_MSG_KERNEL_RUN:
        hil_kernel_run(seq, payload, len);
        break;
    default:
        hil_send_error(seq, HIL_STATUS_UNKNOWN_MESSAGE, hdr->type, "unknown message type");
        break;
    }
}
