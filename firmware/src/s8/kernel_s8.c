/*
 * kernel_s8.c: kernel conformance on an s8 image (HIL_NN_FAMILY_S8): the
 * same messages and arena layout as the q7 image's kernel.c (KERNEL_SETUP
 * declares the input, weights, bias and output regions, each followed by
 * HIL_KERNEL_REGION_PAD bytes and aligned to 4; KERNEL_LOAD fills them; the
 * rest of the arena is the kernels' scratch), with the s8 calls of
 * kcall_s8.c. A KERNEL_RUN that hil_s8_prepare refuses is answered with a
 * KERNEL_DONE carrying the refusal, size 0, CRC 0 and no KERNEL_OUTPUT;
 * only the kernel call itself is timed.
 */
#include <string.h>

#include "hal.h"
#include "hil_fw.h"
#include "kcall_s8.h"

#ifndef HIL_KERNEL_ARENA_BYTES
#define HIL_KERNEL_ARENA_BYTES (64u * 1024u)
#endif

const uint32_t hil_kernel_arena_bytes = HIL_KERNEL_ARENA_BYTES;
static uint8_t arena[HIL_KERNEL_ARENA_BYTES] __attribute__((aligned(8)));

enum { R_COUNT = HIL_REGION_SCRATCH }; /* laid-out regions; the scratch is the rest */
static uint32_t region_off[R_COUNT], region_size[R_COUNT], scratch_off;
static int ready;
static hil_s8_call_t call;

void hil_kernel_setup(uint16_t seq, const uint8_t *payload, uint16_t len)
{
    hil_kernel_setup_t s;
    if (len != sizeof s) {
        hil_send_error(seq, HIL_STATUS_BAD_LENGTH, HIL_MSG_KERNEL_SETUP, "kernel_setup size");
        return;
    }
    memcpy(&s, payload, sizeof s);
    const uint32_t sizes[R_COUNT] = { s.input_size, s.weights_size, s.bias_size, s.output_size };
    uint64_t end = 0;
    ready = 0;
    for (int r = 0; r < R_COUNT; r++) {
        if (sizes[r] > HIL_KERNEL_ARENA_BYTES) {
            end = (uint64_t)HIL_KERNEL_ARENA_BYTES + 1u;
            break;
        }
        region_off[r] = (uint32_t)end;
        region_size[r] = sizes[r];
        end = (end + sizes[r] + HIL_KERNEL_REGION_PAD + 3u) & ~(uint64_t)3u;
        if (end > HIL_KERNEL_ARENA_BYTES)
            break;
    }
    ready = end <= HIL_KERNEL_ARENA_BYTES;
    if (!ready) {
        hil_send_error(seq, HIL_STATUS_NO_SPACE, HIL_MSG_KERNEL_SETUP,
                       "regions exceed HIL_KERNEL_ARENA_BYTES");
        return;
    }
    scratch_off = (uint32_t)end;
    memset(arena, 0, sizeof arena);
    hil_send_ack(seq, HIL_STATUS_OK, HIL_KERNEL_ARENA_BYTES - scratch_off);
}

void hil_kernel_load(uint16_t seq, const uint8_t *payload, uint16_t len)
{
    hil_kernel_chunk_t c;
    if (len < sizeof c) {
        hil_send_error(seq, HIL_STATUS_BAD_LENGTH, HIL_MSG_KERNEL_LOAD, "kernel_chunk size");
        return;
    }
    memcpy(&c, payload, sizeof c);
    uint32_t n = len - (uint32_t)sizeof c;
    if (!ready || c.region >= HIL_REGION_OUTPUT) {
        hil_send_error(seq, HIL_STATUS_BAD_REQUEST, HIL_MSG_KERNEL_LOAD,
                       ready ? "unknown region" : "KERNEL_SETUP first");
        return;
    }
    if (c.offset > region_size[c.region] || n > region_size[c.region] - c.offset) {
        hil_send_error(seq, HIL_STATUS_OUT_OF_RANGE, HIL_MSG_KERNEL_LOAD, "chunk outside region");
        return;
    }
    memcpy(arena + region_off[c.region] + c.offset, payload + sizeof c, n);
    hil_send_ack(seq, HIL_STATUS_OK, c.offset + n);
}

void hil_kernel_run(uint16_t seq, const uint8_t *payload, uint16_t len)
{
    hil_kernel_run_t r;
    int32_t params[HIL_S8_MAX_PARAMS];
    if (len < sizeof r) {
        hil_send_error(seq, HIL_STATUS_BAD_LENGTH, HIL_MSG_KERNEL_RUN, "kernel_run size");
        return;
    }
    memcpy(&r, payload, sizeof r);
    if (len != sizeof r + 4u * r.n_params) {
        hil_send_error(seq, HIL_STATUS_BAD_LENGTH, HIL_MSG_KERNEL_RUN, "n_params vs length");
        return;
    }
    if (!ready || r.dump > HIL_DUMP_NONE) {
        hil_send_error(seq, HIL_STATUS_BAD_REQUEST, HIL_MSG_KERNEL_RUN,
                       ready ? "dump mode" : "KERNEL_SETUP first");
        return;
    }
    /* A longer list is refused by hil_s8_prepare (BAD_PARAMS); copy what fits. */
    memcpy(params, payload + sizeof r,
           4u * (r.n_params < HIL_S8_MAX_PARAMS ? r.n_params : HIL_S8_MAX_PARAMS));

    hil_s8_regions_t regions;
    for (int i = 0; i < R_COUNT; i++) {
        regions.base[i] = arena + region_off[i];
        regions.sizes[i] = region_size[i];
    }
    regions.base[HIL_REGION_SCRATCH] = arena + scratch_off;
    regions.sizes[HIL_REGION_SCRATCH] = HIL_KERNEL_ARENA_BYTES - scratch_off;
    uint8_t param;
    int32_t status = hil_s8_prepare(r.function, params, r.n_params, &regions, &param, &call);
    if (status != HIL_KSTATUS_SUCCESS) {
        hil_kernel_done_t refused = { .function = r.function, .param = param,
                                      .status = (int16_t)status };
        hil_send(HIL_MSG_KERNEL_DONE, seq, &refused, sizeof refused, NULL, 0);
        return;
    }

    uint32_t out_size = region_size[HIL_REGION_OUTPUT];
    hil_fault_context_set(HIL_FAULT_CONTEXT_KERNEL, r.function, seq);
    uint64_t t0 = hal_cycles_now();
    status = hil_s8_call(&call);
    uint64_t ticks = hal_cycles_now() - t0;
    hil_fault_context_set(HIL_FAULT_CONTEXT_IDLE, 0xFFFF, seq);

    hil_kernel_done_t done = {
        .function = r.function, .param = 0xFF, .status = (int16_t)status, .size = out_size,
        .ticks = ticks,
    };
    done.crc32 = hil_send_output(seq, HIL_MSG_KERNEL_OUTPUT, 0,
                                 (const q7_t *)(arena + region_off[HIL_REGION_OUTPUT]), out_size,
                                 r.dump, 0);
    hil_send(HIL_MSG_KERNEL_DONE, seq, &done, sizeof done, NULL, 0);
}
