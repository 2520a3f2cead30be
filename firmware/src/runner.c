/*
 * runner.c: runs the exported module on hil_input and reports every layer.
 *
 * The module calls hil_layer_event just before and just after each kernel
 * call, so only the call (and the callback's own entry and return) is timed.
 * Each layer's output is sent right after the layer runs: a later layer may
 * overwrite it or use it as work area.
 */
#include "hal.h"
#include "hil_fw.h"
#include "hil_model.h"

#ifdef HIL_TEST_FAULT_AT_LAYER
/* Test-only: an undefined instruction (UsageFault on Cortex-M, SIGILL on a
 * host build) so the fault path can be exercised end to end. */
static void test_fault(uint16_t layer)
{
    if (layer == (uint16_t)(HIL_TEST_FAULT_AT_LAYER))
        __builtin_trap();
}
#else
#define test_fault(layer) ((void)(layer))
#endif

#ifdef HIL_TEST_STACK_OVERFLOW_AT_LAYER
/* Test-only: unbounded recursion, so the stack guard (MPU on mps2) is hit. */
static volatile uint32_t sink;
static uint32_t test_recurse(uint32_t depth)
{
    volatile uint8_t frame[64];
    frame[depth % sizeof frame] = (uint8_t)depth;
    sink += test_recurse(depth + 1);
    return frame[0] + sink;
}
#define test_overflow(layer) \
    ((void)((layer) == (uint16_t)(HIL_TEST_STACK_OVERFLOW_AT_LAYER) ? test_recurse(0) : 0))
#else
#define test_overflow(layer) ((void)(layer))
#endif

#ifdef HIL_TEST_HANG_AT_LAYER
/* Test-only: a layer that never ends, for the host's hang detection. */
#define test_hang(layer)                                    \
    do {                                                    \
        while ((layer) == (uint16_t)(HIL_TEST_HANG_AT_LAYER)) \
            sink_hang++;                                    \
    } while (0)
static volatile uint32_t sink_hang;
#else
#define test_hang(layer) ((void)(layer))
#endif

#if defined(HIL_INJECT_FAULT_LAYER) && defined(HIL_INJECT_FAULT_KIND)
/* A deliberate wrong kernel (hil run --inject-fault): corrupts one layer's
 * output in the device's own buffer, after the timed call, so later layers
 * compute on the wrong tensor as they would behind a real broken kernel.
 *   1 off-by-one:    every element +1, saturating at 127
 *   2 bit-flip:      bit 0 of element 0 flipped
 *   3 no-saturation: a missing clip, modelled as one step past each rail
 *                    wrapping: 127 becomes -128 and -128 becomes 127;
 *                    elements inside the rails are left alone */
static void inject_fault(uint16_t layer, q7_t *out, uint32_t size)
{
    if (layer != (uint16_t)(HIL_INJECT_FAULT_LAYER) || size == 0)
        return;
#if HIL_INJECT_FAULT_KIND == 1
    for (uint32_t k = 0; k < size; k++)
        if (out[k] < 127)
            out[k]++;
#elif HIL_INJECT_FAULT_KIND == 2
    out[0] ^= 1;
#elif HIL_INJECT_FAULT_KIND == 3
    for (uint32_t k = 0; k < size; k++) {
        if (out[k] == 127)
            out[k] = -128;
        else if (out[k] == -128)
            out[k] = 127;
    }
#else
#error "HIL_INJECT_FAULT_KIND must be 1 (off-by-one), 2 (bit-flip) or 3 (no-saturation)"
#endif
}
#else
#define inject_fault(layer, out, size) ((void)(layer))
#endif

/* One RUN request in progress: what the layer events need and add up. */
typedef struct {
    uint16_t seq;
    uint8_t dump;
    uint16_t max_chunk;
    uint16_t layers_run;
    uint32_t input_crc;
    uint64_t t0;
    uint64_t total;
} run_state_t;

void hil_layer_event(void *user, int event, uint16_t layer, const char *name, q7_t *out,
                     uint32_t size, int32_t status)
{
    run_state_t *run = user;
    (void)name;
    if (event == HIL_LAYER_BEGIN) {
        hil_fault_context_set(HIL_FAULT_CONTEXT_LAYER, layer, run->seq);
        test_fault(layer);
        test_overflow(layer);
        test_hang(layer);
        run->t0 = hal_cycles_now(); /* last: the timed region starts here */
        return;
    }
    uint64_t ticks = hal_cycles_now() - run->t0;
    hil_fault_context_set(HIL_FAULT_CONTEXT_IDLE, 0xFFFF, run->seq);
    run->total += ticks;
    inject_fault(layer, out, size);

    hil_layer_done_t done = {
        .layer = layer, .status = (int16_t)status, .size = size,
        .input_crc32 = run->input_crc, .ticks = ticks,
    };
    done.crc32 = hil_send_output(run->seq, HIL_MSG_LAYER_OUTPUT, layer, out, size, run->dump,
                                 run->max_chunk);
    hil_send(HIL_MSG_LAYER_DONE, run->seq, &done, sizeof done, NULL, 0);
    run->layers_run = (uint16_t)(layer + 1u);
}

void hil_run_network(uint16_t seq, uint8_t dump, uint16_t max_chunk)
{
    run_state_t run = { .seq = seq, .dump = dump, .max_chunk = max_chunk };
    run.input_crc = hil_crc32(0, hil_input, hil_input_size);
    /* A refused kernel ends the run after its LAYER_DONE, which carries its status. */
    (void)hil_model_run(&run);
    hil_run_done_t rd = { .status = HIL_STATUS_OK, .layers_run = run.layers_run,
                          .total_ticks = run.total };
    hil_send(HIL_MSG_RUN_DONE, seq, &rd, sizeof rd, NULL, 0);
}
