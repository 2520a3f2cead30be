/*
 * armv8m_stack_guard.c: the stack guard of every Armv8-M Mainline port.
 *
 * Armv8-M checks every SP update against MSPLIM: a push that would take MSP
 * below it raises UsageFault with CFSR.STKOF (hil reports it as a stack
 * overflow) and leaves memory below the limit untouched, so .bss and the
 * heap are never corrupted. The limit is __stack_guard_end from the board
 * port's linker script, the bottom of the stack; the 1 KiB guard region
 * below it stays unused, as on Armv7-M where the MPU guards it. No MPU
 * region is needed. (Armv8-M ARM, B3.16 "Stack limit checks".)
 */
#include <stdint.h>

#include "armv8m.h"

extern uint32_t __stack_guard_end;

void armv8m_stack_guard_init(void)
{
    uint32_t limit = (uint32_t)(uintptr_t)&__stack_guard_end & ~7u;   /* bits [2:0] are RES0 */
    __asm volatile("msr msplim, %0\n\tisb" ::"r"(limit) : "memory");
}
