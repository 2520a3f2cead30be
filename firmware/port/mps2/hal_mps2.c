/*
 * hal_mps2.c: hal.h for the QEMU mps2 machines (an385/an386/an500).
 *
 * The host link (UART0) and the watchdog are the shared CMSDK drivers
 * (../cmsdk, addresses in cmsdk_config.h). QEMU models no DWT, so the cycle
 * counter falls back to the CMSDK APB timer 0 on the 25 MHz clock; under
 * -icount its ticks are proportional to executed instructions.
 */
#include <stdint.h>

#include "armv7m.h"
#include "cmsdk.h"
#include "hal.h"
#include "mps2_regs.h"

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

/*
 * Both counters are 32 bits wide and extended to 64 in software on every
 * read, with no interrupt: an interrupt handler's instructions would land
 * inside whichever layer it hit and make emulated counts vary run to run.
 * A difference between two reads is exact while they are less than 2^32
 * ticks apart (172 s at 25 MHz), which every single kernel call is.
 */
static uint32_t counter_last, counter_high;

static uint64_t extend(uint32_t up)
{
    uint32_t primask = irq_save();
    if (up < counter_last)
        counter_high++;
    counter_last = up;
    uint64_t count = ((uint64_t)counter_high << 32) | up;
    irq_restore(primask);
    return count;
}

static void cycles_init(void)
{
    cycle_source = dwt_probe() ? HAL_CYCLES_DWT : HAL_CYCLES_TIMER;
    if (cycle_source == HAL_CYCLES_TIMER) {
        /* CMSDK APB timer 0 counting down from 2^32-1 on the 25 MHz APB clock. */
        TIMER0_CTRL = 0;
        TIMER0_RELOAD = 0xFFFFFFFFu;
        TIMER0_VALUE = 0xFFFFFFFFu;
        TIMER0_CTRL = TIMER_CTRL_ENABLE;
    }
    counter_last = 0;
}

uint64_t hal_cycles_now(void)
{
    return extend(cycle_source == HAL_CYCLES_DWT ? DWT_CYCCNT : ~TIMER0_VALUE);
}

enum hal_cycle_source hal_cycle_source(void)
{
    return cycle_source;
}

uint32_t hal_cycle_source_hz(void)
{
    return MPS2_CORE_HZ;
}

void hal_init(void)
{
    cmsdk_uart_init();
    SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA;
    SCB_CCR |= CCR_DIV_0_TRP;
    armv7m_stack_guard_init();
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

/* QEMU's mps2 machines model no reset-cause register. */
enum hal_reset_cause hal_reset_cause(void)
{
    return HAL_RESET_UNKNOWN;
}
