/* fault.c: reports a CPU fault to the host, then halts. */
#include "hal.h"
#include "hil_fw.h"

static volatile uint8_t fault_context = HIL_FAULT_CONTEXT_IDLE;
static volatile uint16_t fault_index = 0xFFFF;
static volatile uint16_t fault_seq;

void hil_fault_context_set(uint8_t context, uint16_t index, uint16_t seq)
{
    fault_context = context;
    fault_index = index;
    fault_seq = seq;
}

void hil_on_fault(const struct hal_fault *f)
{
    hil_fault_t msg = {
        .r0 = f->r0, .r1 = f->r1, .r2 = f->r2, .r3 = f->r3, .r12 = f->r12,
        .lr = f->lr, .pc = f->pc, .xpsr = f->xpsr,
        .cfsr = f->cfsr, .hfsr = f->hfsr, .mmfar = f->mmfar, .bfar = f->bfar,
        .exc_return = f->exc_return,
        .index = fault_index, .context = fault_context, .reserved = 0,
    };
    hil_send(HIL_MSG_FAULT, fault_seq, &msg, sizeof msg, NULL, 0);
    /* Halt: the host has the report; only a reset may continue. */
    for (;;) {
    }
}
