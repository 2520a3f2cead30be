/*
 * hal_mps3.c: hal.h for the QEMU mps3-an547 machine (Cortex-M55, SSE-300).
 *
 * The host link (UART0) and the watchdog are the shared CMSDK drivers
 * (../cmsdk, addresses in cmsdk_config.h). QEMU models no DWT, so the cycle
 * counter is the SSE-300 system counter on the 32 MHz SYSCLK; under -icount
 * its ticks are proportional to executed instructions.
 */
#include <stdint.h>

#include "armv8m.h"
#include "cmsdk.h"
#include "hal.h"
#include "mps3_regs.h"

static enum hal_cycle_source cycle_source;

/* DEMCR/DWT read as zero on QEMU; a counter that moves means silicon. */
static int dwt_probe(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    uint32_t first = DWT_CYCCNT;
    for (volatile int i = 0; i < 64; i++)
        ;
    return DWT_CYCCNT != first;
}

/* The DWT counter is 32 bits, extended in software on every read with no
 * interrupt (as on mps2); the system counter is 64 bits already. */
static uint32_t dwt_last, dwt_high;

static uint64_t dwt_extended(void)
{
    uint32_t primask = irq_save();
    uint32_t up = DWT_CYCCNT;
    if (up < dwt_last)
        dwt_high++;
    dwt_last = up;
    uint64_t count = ((uint64_t)dwt_high << 32) | up;
    irq_restore(primask);
    return count;
}

/* The two halves are read separately: re-read until the high word holds. */
static uint64_t system_count(void)
{
    uint32_t hi, lo;
    do {
        hi = CNTCV_HI;
        lo = CNTCV_LO;
    } while (CNTCV_HI != hi);
    return ((uint64_t)hi << 32) | lo;
}

static void cycles_init(void)
{
    cycle_source = dwt_probe() ? HAL_CYCLES_DWT : HAL_CYCLES_TIMER;
    if (cycle_source == HAL_CYCLES_TIMER)
        CNTCR |= CNTCR_EN;   /* counts from reset value 0, no scaling, no interrupt */
}

uint64_t hal_cycles_now(void)
{
    return cycle_source == HAL_CYCLES_DWT ? dwt_extended() : system_count();
}

enum hal_cycle_source hal_cycle_source(void)
{
    return cycle_source;
}

uint32_t hal_cycle_source_hz(void)
{
    return MPS3_SYSCLK_HZ;
}

void hal_init(void)
{
    cmsdk_uart_init();
    SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA
                 | SHCSR_SECUREFAULTENA;
    SCB_CCR |= CCR_DIV_0_TRP;
    armv8m_stack_guard_init();
    cycles_init();
    __asm volatile("cpsie i" ::: "memory");
}

void hal_reset(void)
{
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = AIRCR_SYSRESETREQ;
    __asm volatile("dsb" ::: "memory");
    for (;;)
        ;
}

/* QEMU models no reset-cause register for this machine. */
enum hal_reset_cause hal_reset_cause(void)
{
    return HAL_RESET_UNKNOWN;
}
