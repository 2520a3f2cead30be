/*
 * kernel.c: kernel conformance on the device. The host declares region sizes
 * (KERNEL_SETUP), fills input/weights/bias in chunks (KERNEL_LOAD) and calls
 * one function (KERNEL_RUN); the rest of the arena is the kernels' scratch.
 * A KERNEL_RUN whose parameters or regions fail hil_kernel_check is refused
 * without calling the kernel: its KERNEL_DONE carries the refusal, size 0,
 * CRC 0 and no KERNEL_OUTPUT frames.
 */
#include <string.h>

#include "hal.h"
#include "hil_fw.h"

#ifndef HIL_KERNEL_ARENA_BYTES
#define HIL_KERNEL_ARENA_BYTES (64u * 1024u)
#endif

const uint32_t hil_kernel_arena_bytes = HIL_KERNEL_ARENA_BYTES;
static uint8_t arena[HIL_KERNEL_ARENA_BYTES] __attribute__((aligned(8)));

enum { R_COUNT = HIL_REGION_SCRATCH }; /* laid-out regions; the scratch is the rest */
static uint32_t region_off[R_COUNT], region_size[R_COUNT], scratch_off;
static int ready;

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
        /* Checked before adding: a size near 2^32 must not wrap the sum. */
        if (sizes[r] > HIL_KERNEL_ARENA_BYTES) {
            end = (uint64_t)HIL_KERNEL_ARENA_BYTES + 1u;
            break;
        }
        region_off[r] = (uint32_t)end;
        region_size[r] = sizes[r];
        /* The pad keeps readable bytes after every region (the RGB kernel
         * reads one byte past its last pixel). */
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

/* Answers a call hil_kernel_check refuses (KERNEL_DONE without output) and
 * returns 1; 0 when the call may go ahead. Kept out of hil_kernel_run so the
 * code around the timed call stays as it was: the counts must not move. */
static __attribute__((noinline)) int refused(uint16_t seq, uint8_t function,
                                             const int32_t *params, uint8_t n_params)
{
    uint32_t sizes[HIL_KREGION_COUNT];
    memcpy(sizes, region_size, sizeof region_size);
    sizes[HIL_REGION_SCRATCH] = HIL_KERNEL_ARENA_BYTES - scratch_off;
    uint8_t param;
    int32_t status = hil_kernel_check(function, params, n_params, sizes, &param);
    if (status == HIL_KSTATUS_SUCCESS)
        return 0;
    hil_kernel_done_t done = { .function = function, .param = param, .status = (int16_t)status };
    hil_send(HIL_MSG_KERNEL_DONE, seq, &done, sizeof done, NULL, 0);
    return 1;
}

void hil_kernel_run(uint16_t seq, const uint8_t *payload, uint16_t len)
{
    hil_kernel_run_t r;
    int32_t params[HIL_FN_MAX_NPARAMS];
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
    /* A longer list is refused by hil_kernel_check (BAD_PARAMS); copy what fits. */
    memcpy(params, payload + sizeof r,
           4u * (r.n_params < HIL_FN_MAX_NPARAMS ? r.n_params : HIL_FN_MAX_NPARAMS));
    if (refused(seq, r.function, params, r.n_params))
        return;

    q7_t *in = (q7_t *)(arena + region_off[HIL_REGION_INPUT]);
    q7_t *out = (q7_t *)(arena + region_off[HIL_REGION_OUTPUT]);
    uint32_t out_size = region_size[HIL_REGION_OUTPUT];
    uint32_t in_size = region_size[HIL_REGION_INPUT];
    uint32_t stage = in_size < out_size ? in_size : out_size;
    hil_fault_context_set(HIL_FAULT_CONTEXT_KERNEL, r.function, seq);
    hil_kernel_stage(r.function, in, out, stage);
    uint64_t t0 = hal_cycles_now();
    int32_t status = hil_kernel_call(r.function, params, r.n_params, in,
                                     (const q7_t *)(arena + region_off[HIL_REGION_WEIGHTS]),
                                     (const q7_t *)(arena + region_off[HIL_REGION_BIAS]), out,
                                     (q15_t *)(void *)(arena + scratch_off));
    uint64_t ticks = hal_cycles_now() - t0;
    hil_fault_context_set(HIL_FAULT_CONTEXT_IDLE, 0xFFFF, seq);

    hil_kernel_done_t done = {
        .function = r.function, .status = (int16_t)status, .size = out_size, .ticks = ticks,
    };
    done.crc32 = hil_send_output(seq, HIL_MSG_KERNEL_OUTPUT, 0, out, out_size, r.dump, 0);
    /* Set last: set in the initializer, it moved gcc's register allocation
     * around the timed call (one instruction fewer on Cortex-M3). */
    done.param = 0xFF;
    hil_send(HIL_MSG_KERNEL_DONE, seq, &done, sizeof done, NULL, 0);
}
