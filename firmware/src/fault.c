/* fault.c: reports a CPU fault or a watchdog expiry to the host, then halts. */
#include "hal.h"
#include "hil_fw.h"

_Static_assert(HAL_FAULT_WATCHDOG == HIL_FAULT_CAUSE_WATCHDOG, "fault cause ids");
_Static_assert(HAL_FAULT_CPU == HIL_FAULT_CAUSE_CPU, "fault cause ids");

static volatile uint8_t fault_context = HIL_FAULT_CONTEXT_IDLE;
static volatile uint16_t fault_index = 0xFFFF;
static volatile uint16_t fault_seq;

void hil_fault_context_set(uint8_t context, uint16_t index, uint16_t seq)
{
    hal_watchdog_feed();   /* a kernel call starting or ending is progress */
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
        .index = fault_index, .context = fault_context, .cause = (uint8_t)f->cause,
    };
    if (fault_context == HIL_FAULT_CONTEXT_LAYER)
        hil_send_finished_layers(fault_seq); /* what was right before it */
    hil_send(HIL_MSG_FAULT, fault_seq, &msg, sizeof msg, NULL, 0);
    /* Halt: the host has the report; only a reset may continue. The
     * watchdog is kept quiet so it neither reports again nor reboots a
     * device whose state someone may still want to inspect. */
    for (;;)
        hal_watchdog_feed();
}
