/*
 * armv7m_reset.c: the reset handler every Armv7-M port shares. Each port
 * provides hal_vector_table (its startup.c) and the linker symbols below.
 * Register addresses are architectural (Armv7-M ARM, B3.2 System Control
 * Space).
 */
#include <stdint.h>

#include "armv7m.h"
#include "hal.h"

#define RESET_REG32(addr) (*(volatile uint32_t *)(addr))
#define SCB_VTOR  RESET_REG32(0xE000ED08u)
#define SCB_CPACR RESET_REG32(0xE000ED88u)
#define CPACR_CP10_CP11 (0xFu << 20)   /* full access to the FPU */

/* Linker script symbols. */
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;

int main(void);

__attribute__((noreturn)) void Reset_Handler(void)
{
#if defined(__ARM_FP)
    /* The compiler may emit FP instructions anywhere from here on. */
    SCB_CPACR |= CPACR_CP10_CP11;
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
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
