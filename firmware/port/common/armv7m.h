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

/* Exception number (IPSR) the port's watchdog raises before it resets the
 * core, 0 if it raises none; defined by each port. armv7m_fault.c reports
 * that exception as a watchdog expiry rather than a CPU fault. */
extern const uint32_t hal_port_watchdog_exception;

#endif /* HIL_ARMV7M_H */
