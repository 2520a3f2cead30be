/*
 * hal_stm32f7.c: hal.h for the STM32F7 (NUCLEO-F746ZG): caches, clock,
 * UART, the DWT cycle counter, stack guard, reset and fault reporting.
 *
 * Cycles are DWT_CYCCNT at the core clock (source "dwt"), extended to 64
 * bits on each read with no interrupt, as on mps2: no handler runs inside a
 * kernel's count (the UART receives by DMA, uart.c). The difference of two
 * reads is exact while they are less than 2^32 cycles apart (19.9 s at
 * 216 MHz); every kernel call is timed by two reads around it alone. Only
 * the SysTick fallback (a debugger holds the DWT off; an emulator without
 * one) needs SysTick's interrupt, every 2^24 ticks, to count its wraps.
 */
#include <stdint.h>

#include "armv7m.h"
#include "hal.h"
#include "stm32f7_port.h"
#include "stm32f7_regs.h"

#ifndef HIL_UART_BAUD
#define HIL_UART_BAUD 115200u
#endif

#define SYSTICK_RELOAD 0x00FFFFFFu

static enum hal_cycle_source cycle_source;
static volatile uint32_t systick_wraps;
static uint32_t dwt_last, dwt_high;

static inline void barrier(void)
{
    __asm volatile("dsb\n\tisb" ::: "memory");
}

/* Cortex-M7 TRM / Armv7-M ARM: invalidate, then enable (the caches are off out of reset). */
static void caches_enable(void)
{
    barrier();
    SCB_ICIALLU = 0;
    barrier();
    SCB_CCR |= CCR_IC;
    barrier();

    SCB_CSSELR = 0;   /* level 1 data cache */
    barrier();
    uint32_t ccsidr = SCB_CCSIDR;
    for (uint32_t set = 0; set <= CCSIDR_SETS(ccsidr); set++)
        for (uint32_t way = 0; way <= CCSIDR_WAYS(ccsidr); way++)
            SCB_DCISW = (set << DCISW_SET_SHIFT) | (way << DCISW_WAY_SHIFT);
    barrier();
    SCB_CCR |= CCR_DC;
    barrier();
}

/* The M7's DWT ignores writes until its lock access register is unlocked. */
static int dwt_start(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_LAR = DWT_LAR_KEY;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    uint32_t first = DWT_CYCCNT;
    for (volatile int i = 0; i < 64; i++)
        ;
    return DWT_CYCCNT != first;
}

static uint64_t dwt_now(void)
{
    uint32_t primask = irq_save();
    uint32_t now = DWT_CYCCNT;
    if (now < dwt_last)
        dwt_high++;
    dwt_last = now;
    uint64_t count = ((uint64_t)dwt_high << 32) | now;
    irq_restore(primask);
    return count;
}

static uint64_t systick_now(void)
{
    uint32_t primask = irq_save();
    uint32_t wraps = systick_wraps;
    uint32_t value = SYST_CVR;
    if (SYST_CSR & (1u << 16)) {   /* COUNTFLAG: wrapped since the ISR last ran */
        wraps++;
        systick_wraps = wraps;
        value = SYST_CVR;
    }
    irq_restore(primask);
    return (uint64_t)wraps * (SYSTICK_RELOAD + 1u) + (SYSTICK_RELOAD - value);
}

/* Runs only for the SysTick fallback source (cycles_init). */
void SysTick_Handler(void)
{
    if (SYST_CSR & (1u << 16))   /* reading COUNTFLAG clears it */
        systick_wraps++;
}

static void cycles_init(void)
{
    /* Silicon always has a DWT; SysTick only if a debugger holds it disabled. */
    cycle_source = dwt_start() ? HAL_CYCLES_DWT : HAL_CYCLES_SYSTICK;
    dwt_last = DWT_CYCCNT;
    SYST_CSR = 0;
    if (cycle_source == HAL_CYCLES_DWT)
        return;   /* SysTick stays off: its handler would land inside counts */
    SYST_RVR = SYSTICK_RELOAD;
    SYST_CVR = 0;
    SCB_SHPR3 = (SCB_SHPR3 & 0x00FFFFFFu) | (0xF0u << 24);   /* lowest: below the UART */
    SYST_CSR = SYST_CSR_CLKSRC | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

uint64_t hal_cycles_now(void)
{
    return cycle_source == HAL_CYCLES_DWT ? dwt_now() : systick_now();
}

enum hal_cycle_source hal_cycle_source(void)
{
    return cycle_source;
}

uint32_t hal_cycle_source_hz(void)
{
    return SystemCoreClock;
}

void hal_init(void)
{
    stm32f7_reset_cause_init();
    caches_enable();
    stm32f7_clock_init();
    stm32f7_uart_init(HIL_UART_BAUD);
    SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA;
    SCB_CCR |= CCR_DIV_0_TRP;
    armv7m_stack_guard_init();
    cycles_init();
    __asm volatile("cpsie i" ::: "memory");
}

void hal_reset(void)
{
    /* Let the last response leave the shift register before the reset cuts it. */
    while (!(USART3_ISR & USART_ISR_TC) && (USART3_CR1 & USART_CR1_UE))
        ;
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = AIRCR_SYSRESETREQ;
    __asm volatile("dsb" ::: "memory");
    for (;;)
        ;
}
