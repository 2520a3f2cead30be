/*
 * hal_mps3.c: hal.h for the QEMU mps3-an547 machine (Cortex-M55, SSE-300).
 *
 * UART0 is the host link. QEMU models no DWT, so the cycle counter is the
 * SSE-300 system counter on the 32 MHz SYSCLK; under -icount its ticks are
 * proportional to executed instructions.
 */
#include <stdint.h>

#include "armv8m.h"
#include "hal.h"
#include "mps3_port.h"
#include "mps3_regs.h"

#ifndef HIL_UART_BAUD
#define HIL_UART_BAUD 115200u
#endif

#define UART0_IRQ_BIT (1u << (UART0_IRQ % 32u))
#define UART0_IRQ_REG (UART0_IRQ / 32u)

static enum hal_cycle_source cycle_source;

static void uart_init(void)
{
    uint32_t div = UART_APB_HZ / HIL_UART_BAUD;
    UART0_CTRL = 0;
    UART0_BAUDDIV = div < 16u ? 16u : div;   /* the CMSDK UART needs >= 16 */
    UART0_STATE = UART_STATE_TXOVR | UART_STATE_RXOVR;
    /* The RX interrupt stays disabled in the NVIC except while
     * hal_uart_getc sleeps (see there). */
    UART0_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINTEN;
    /* As on mps2: QEMU delays the first received byte without this read. */
    (void)UART0_DATA;
}

void hal_uart_putc(uint8_t byte)
{
    while (UART0_STATE & UART_STATE_TXFULL)
        ;
    UART0_DATA = byte;
}

/* Never runs (the IRQ is enabled only under PRIMASK); acknowledges if it does. */
void UART0_IRQHandler(void)
{
    UART0_INTCLEAR = UART_INT_RX;
}

/*
 * Waits in WFI, woken by the UART's combined interrupt, which is enabled in
 * the NVIC only here and with PRIMASK set, so no handler ever runs and none
 * lands inside a timed kernel call (the mps2 port does the same; its README
 * says why nothing is lost meanwhile).
 */
uint8_t hal_uart_getc(void)
{
    if (!(UART0_STATE & UART_STATE_RXFULL)) {
        /* Waiting for the host is not a hang: no watchdog count meanwhile. */
        mps3_watchdog_pause();
        uint32_t primask = irq_save();
        NVIC_ISER(UART0_IRQ_REG) = UART0_IRQ_BIT;
        for (;;) {
            UART0_INTCLEAR = UART_INT_RX;
            NVIC_ICPR(UART0_IRQ_REG) = UART0_IRQ_BIT;
            if (UART0_STATE & UART_STATE_RXFULL)
                break;
            __asm volatile("wfi" ::: "memory");
        }
        NVIC_ICER(UART0_IRQ_REG) = UART0_IRQ_BIT;
        __asm volatile("dsb\n\tisb" ::: "memory");   /* disabled before PRIMASK clears */
        irq_restore(primask);
        mps3_watchdog_resume();
    }
    return (uint8_t)UART0_DATA;
}

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
    uart_init();
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
