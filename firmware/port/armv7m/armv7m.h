/*
 * armv7m.h: small helpers every Armv7-M port needs.
 */
#ifndef HIL_ARMV7M_H
#define HIL_ARMV7M_H

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

/* The vector table: each port's startup.c defines hal_vector_table, starting
 * with ARMV7M_SYSTEM_VECTORS; Reset_Handler (armv7m_reset.c) sets up memory
 * and the FPU, points VTOR at the table and runs main(). Every exception
 * without a handler of its own goes to hal_fault_entry (armv7m_fault.c) and
 * is reported as a fault. */
typedef void (*vector_t)(void);
extern const vector_t hal_vector_table[];
extern uint32_t _estack;   /* linker script: top of the stack */
void Reset_Handler(void);
void hal_fault_entry(void);

#define ARMV7M_SYSTEM_VECTORS(systick_handler)                                      \
    (vector_t)(uintptr_t)&_estack, Reset_Handler,                                  \
    hal_fault_entry /* NMI */, hal_fault_entry /* HardFault */,                    \
    hal_fault_entry /* MemManage */, hal_fault_entry /* BusFault */,               \
    hal_fault_entry /* UsageFault */, 0, 0, 0, 0, hal_fault_entry /* SVC */,        \
    hal_fault_entry /* DebugMon */, 0, hal_fault_entry /* PendSV */, systick_handler

/* armv7m_stack_guard.c: the MPU no-access region below the stack (does
 * nothing on a core without MPU regions). */
void armv7m_stack_guard_init(void);

/* Exception number (IPSR) the port's watchdog raises before it resets the
 * core, 0 if it raises none; defined by each port. armv7m_fault.c reports
 * that exception as a watchdog expiry rather than a CPU fault. */
extern const uint32_t hal_port_watchdog_exception;

#endif /* HIL_ARMV7M_H */
