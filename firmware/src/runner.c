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
    uint64_t t0;
} run_state_t;

/* The run the device holds (its records in hil_layer_records, its ticks in
 * ticks[cur]) and the one before it, whose ticks are in ticks[cur ^ 1]. */
static struct {
    uint16_t seq, other_seq;
    uint8_t held, other_held, cur;
    uint8_t summary_running; /* a SUMMARY run is computing: its layers are not out yet */
    uint16_t layers_run, other_layers_run;
    uint32_t input_crc;
    uint64_t total;
} last;

void hil_forget_run(void)
{
    last.held = 0;
    last.other_held = 0;
}

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
    last.total += ticks;
    inject_fault(layer, out, size);

    hil_layer_record_t *rec = &hil_layer_records[layer];
    rec->ticks[last.cur] = ticks;
    rec->size = size;
    rec->status = status;
    if (run->dump == HIL_DUMP_SUMMARY) {
        rec->crc32 = hil_crc32(0, out, size);
    } else {
        rec->crc32 = hil_send_output(run->seq, HIL_MSG_LAYER_OUTPUT, layer, out, size,
                                     run->dump, run->max_chunk);
        hil_send_layer_done(run->seq, layer);
    }
    last.layers_run = (uint16_t)(layer + 1u);
}

void hil_send_layer_done(uint16_t seq, uint16_t layer)
{
    const hil_layer_record_t *rec = &hil_layer_records[layer];
    hil_layer_done_t done = {
        .layer = layer, .status = (int16_t)rec->status, .crc32 = rec->crc32,
        .size = rec->size, .input_crc32 = last.input_crc, .ticks = rec->ticks[last.cur],
    };
    hil_send(HIL_MSG_LAYER_DONE, seq, &done, sizeof done, NULL, 0);
}

static void send_run_done(uint16_t seq)
{
    hil_run_done_t rd = { .status = HIL_STATUS_OK, .layers_run = last.layers_run,
                          .total_ticks = last.total };
    hil_send(HIL_MSG_RUN_DONE, seq, &rd, sizeof rd, NULL, 0);
}

/* LEB128 of v into p (NULL: only count); returns its length. */
static uint32_t leb128(uint8_t *p, uint64_t v)
{
    uint32_t n = 0;
    do {
        uint8_t byte = (uint8_t)(v & 0x7Fu);
        v >>= 7;
        if (v)
            byte |= 0x80u;
        if (p)
            p[n] = byte;
        n++;
    } while (v);
    return n;
}

/* The held run's counts as RESULT codes them against the run before it
 * (when that is the host's base); each layer's code goes out as it is made,
 * so nothing is buffered. Returns the coded length; sends only if `send`. */
static uint32_t code_counts(uint8_t coding, int send)
{
    uint32_t total = 0;
    if (coding == HIL_COUNTS_SAME)
        return 0;
    for (uint16_t i = 0; i < last.layers_run; i++) {
        const hil_layer_record_t *rec = &hil_layer_records[i];
        uint64_t v = rec->ticks[last.cur];
        if (coding == HIL_COUNTS_DELTA) {
            int64_t d = (int64_t)(v - rec->ticks[last.cur ^ 1u]);
            v = ((uint64_t)d << 1) ^ (uint64_t)(d >> 63); /* zigzag: small either way */
        }
        uint8_t buf[10];
        uint32_t n = leb128(buf, v);
        if (send)
            hil_tx_bytes(buf, n);
        total += n;
    }
    return total;
}

static uint8_t counts_coding(uint16_t base)
{
    if (!last.other_held || base == 0 || base != last.other_seq ||
        last.other_layers_run < last.layers_run)
        return HIL_COUNTS_FULL;
    for (uint16_t i = 0; i < last.layers_run; i++)
        if (hil_layer_records[i].ticks[0] != hil_layer_records[i].ticks[1])
            return HIL_COUNTS_DELTA;
    return HIL_COUNTS_SAME;
}

/* One RESULT for the held run: its input, a digest over its layers' digests,
 * how it stopped if not at the end, and its counts. */
static void send_result(uint16_t seq, uint16_t base)
{
    hil_result_t r = { .input_crc32 = last.input_crc, .digest = 0,
                       .coding = counts_coding(base) };
    for (uint16_t i = 0; i < last.layers_run; i++) {
        uint32_t c = hil_layer_records[i].crc32;
        uint8_t le[4] = { (uint8_t)c, (uint8_t)(c >> 8), (uint8_t)(c >> 16), (uint8_t)(c >> 24) };
        r.digest = hil_crc32(r.digest, le, sizeof le);
    }
    hil_result_stop_t stop = { .layers_run = last.layers_run, .status = 0 };
    if (last.layers_run > 0)
        stop.status = (int16_t)hil_layer_records[last.layers_run - 1u].status;
    int stopped = last.layers_run != hil_num_layers || stop.status != 0;
    if (stopped)
        r.coding |= HIL_RESULT_FLAG_STOPPED;
    uint32_t counts = code_counts(r.coding & 3u, 0);
    hil_tx_begin(HIL_MSG_RESULT, seq,
                 (uint16_t)(sizeof r + (stopped ? sizeof stop : 0u) + counts));
    hil_tx_bytes(&r, sizeof r);
    if (stopped)
        hil_tx_bytes(&stop, sizeof stop);
    code_counts(r.coding & 3u, 1);
    hil_tx_end();
}

void hil_run_network(uint16_t seq, uint8_t dump, uint16_t max_chunk, uint16_t base)
{
    /* A SUMMARY RUN sent again (its RESULT was lost) is answered from what
     * the device holds: the same result, without computing it twice. */
    if (dump == HIL_DUMP_SUMMARY && last.held && seq == last.seq) {
        send_result(seq, base);
        return;
    }
    run_state_t run = { .seq = seq, .dump = dump, .max_chunk = max_chunk };
    last.other_seq = last.seq;
    last.other_held = last.held;
    last.other_layers_run = last.layers_run;
    last.held = 0;
    last.seq = seq;
    last.cur ^= 1u;
    last.layers_run = 0;
    last.total = 0;
    last.input_crc = hil_crc32(0, hil_input, hil_input_size);
    last.summary_running = dump == HIL_DUMP_SUMMARY;
    /* A refused kernel ends the run after its LAYER_DONE, which carries its status. */
    (void)hil_model_run(&run);
    last.summary_running = 0;
    last.held = 1;
    if (dump == HIL_DUMP_SUMMARY)
        send_result(seq, base);
    else
        send_run_done(seq);
}

void hil_send_finished_layers(uint16_t seq)
{
    if (!last.summary_running)
        return;
    last.summary_running = 0; /* once, even if sending them faults again */
    for (uint16_t i = 0; i < last.layers_run; i++)
        hil_send_layer_done(seq, i);
}

void hil_send_detail(uint16_t seq, uint16_t run_seq)
{
    if (!last.held || run_seq != last.seq) {
        hil_send_error(seq, HIL_STATUS_BAD_REQUEST, HIL_MSG_DETAIL, "run not held");
        return;
    }
    for (uint16_t i = 0; i < last.layers_run; i++)
        hil_send_layer_done(seq, i);
    send_run_done(seq);
}
