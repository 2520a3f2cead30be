/*
 * armv8m.h: what every Armv8-M Mainline port shares, and what the
 * architecture port needs from the board port.
 */
#ifndef HIL_ARMV8M_H
#define HIL_ARMV8M_H

#include <stdint.h>

/* Mask interrupts and return the previous PRIMASK for irq_restore. */
static inline uint32_t irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

static inline void irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* The vector table: each board port's startup.c defines hal_vector_table,
 * starting with ARMV8M_SYSTEM_VECTORS; Reset_Handler (armv8m_reset.c)
 * enables the FPU/MVE, sets up memory, points VTOR at the table and runs
 * main(). Every exception without a handler of its own goes to
 * hal_fault_entry (armv8m_fault.c) and is reported as a fault. */
typedef void (*vector_t)(void);
extern const vector_t hal_vector_table[];
extern uint32_t _estack;   /* linker script: top of the stack */
void Reset_Handler(void);
void hal_fault_entry(void);

/* Armv8-M adds SecureFault (exception 7); the rest is laid out as on Armv7-M. */
#define ARMV8M_SYSTEM_VECTORS(systick_handler)                                      \
    (vector_t)(uintptr_t)&_estack, Reset_Handler,                                  \
    hal_fault_entry /* NMI */, hal_fault_entry /* HardFault */,                    \
    hal_fault_entry /* MemManage */, hal_fault_entry /* BusFault */,               \
    hal_fault_entry /* UsageFault */, hal_fault_entry /* SecureFault */,           \
    0, 0, 0, hal_fault_entry /* SVC */,                                            \
    hal_fault_entry /* DebugMon */, 0, hal_fault_entry /* PendSV */, systick_handler

/* armv8m_stack_guard.c: MSPLIM at the top of the guard region below the
 * stack, so a push below it raises UsageFault with CFSR.STKOF. */
void armv8m_stack_guard_init(void);

/* Exception number (IPSR) the port's watchdog raises before it resets the
 * core, 0 if it raises none; defined by each board port. armv8m_fault.c
 * reports that exception as a watchdog expiry rather than a CPU fault. */
extern const uint32_t hal_port_watchdog_exception;

#endif /* HIL_ARMV8M_H */
