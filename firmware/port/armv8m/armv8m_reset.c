/*
 * armv8m_reset.c: the reset handler every Armv8-M port shares. Each board
 * port provides hal_vector_table (its startup.c) and the linker symbols
 * below. Register addresses are architectural (Armv8-M ARM, D1.2 System
 * Control Space).
 *
 * The core comes out of reset in Secure state with the FPU (and MVE, which
 * shares its enable) off. gcc -O2 for an MVE core vectorises ordinary C
 * loops, so any C function may use FP/MVE registers: CP10/CP11 are enabled
 * in assembly before the first C instruction runs.
 */
#include <stdint.h>

#include "armv8m.h"
#include "hal.h"

#define RESET_REG32(addr) (*(volatile uint32_t *)(addr))
#define SCB_VTOR  RESET_REG32(0xE000ED08u)

/* Linker script symbols. */
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;

int main(void);
__attribute__((noreturn, used)) void armv8m_start(void);

__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm volatile(
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
        "ldr r0, =0xE000ED88\n\t"      /* CPACR */
        "ldr r1, [r0]\n\t"
        "orr r1, r1, #0x00F00000\n\t"  /* CP10, CP11: full access */
        "str r1, [r0]\n\t"
        "dsb\n\t"
        "isb\n\t"
#endif
        "movs r0, #0\n\t"
        "msr msplim, r0\n\t"           /* no limit until the guard is armed */
        "b armv8m_start\n\t"
        ".ltorg\n\t");
}

__attribute__((noreturn, used)) void armv8m_start(void)
{
    SCB_VTOR = (uint32_t)(uintptr_t)hal_vector_table;

    /* Word loops, not memcpy: .data and .bss are not set up yet. */
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;)
        *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;

    main();
    hal_reset();
}
