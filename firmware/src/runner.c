/*
 * runner.c: runs the generated hil_layers over hil_arena.
 *
 * Only the kernel call is timed. Each layer's output is sent right after
 * the layer runs: a later layer may overwrite it or use it as work area.
 */
#include "hal.h"
#include "hil_fw.h"
#include "hil_model.h"

_Static_assert(HIL_MAX_PARAMS >= HIL_FN_MAX_NPARAMS, "hil_layer_t.params too small");

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

void hil_run_network(uint16_t seq, uint8_t dump)
{
    uint64_t total = 0;
    uint16_t i;
    for (i = 0; i < hil_num_layers; i++) {
        const hil_layer_t *L = &hil_layers[i];
        int32_t params[HIL_MAX_PARAMS];
        uint8_t n = L->n_params <= HIL_MAX_PARAMS ? L->n_params : HIL_MAX_PARAMS;
        for (uint8_t k = 0; k < n; k++)
            params[k] = L->params[k];
        q7_t *in = hil_arena + L->in_offset;
        q7_t *out = hil_arena + L->out_offset;

        hil_fault_context_set(HIL_FAULT_CONTEXT_LAYER, i, seq);
        hil_kernel_stage(L->function, in, out, L->in_size);
        test_fault(i);
        uint64_t t0 = hal_cycles_now();
        int32_t status = hil_kernel_call(L->function, params, L->n_params, in, L->weights,
                                         L->bias, out, hil_scratch);
        uint64_t ticks = hal_cycles_now() - t0;
        hil_fault_context_set(HIL_FAULT_CONTEXT_IDLE, 0xFFFF, seq);
        total += ticks;

        hil_layer_done_t done = {
            .layer = i, .status = (int16_t)status, .size = L->out_size, .ticks = ticks,
        };
        done.crc32 = hil_send_output(seq, HIL_MSG_LAYER_OUTPUT, i, out, L->out_size, dump);
        hil_send(HIL_MSG_LAYER_DONE, seq, &done, sizeof done, NULL, 0);
        if (status != HIL_KSTATUS_SUCCESS) {
            i++;
            break;
        }
    }
    hil_run_done_t rd = { .status = HIL_STATUS_OK, .layers_run = i, .total_ticks = total };
    hil_send(HIL_MSG_RUN_DONE, seq, &rd, sizeof rd, NULL, 0);
}
