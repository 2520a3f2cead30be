/*
 * hal_mps2.c: hal.h for the QEMU mps2 machines (an385/an386/an500).
 *
 * UART0 is the host link. QEMU models no DWT, so the cycle counter falls
 * back to the CMSDK APB timer 0 on the 25 MHz clock; under -icount its
 * ticks are proportional to executed instructions.
 */
#include <stdint.h>

#include "armv7m.h"
#include "hal.h"
#include "mps2_port.h"
#include "mps2_regs.h"

#ifndef HIL_UART_BAUD
#define HIL_UART_BAUD 115200u
#endif

static enum hal_cycle_source cycle_source;

static void uart_init(void)
{
    uint32_t div = MPS2_CORE_HZ / HIL_UART_BAUD;
    UART0_CTRL = 0;
    UART0_BAUDDIV = div < 16u ? 16u : div;   /* the CMSDK UART needs >= 16 */
    UART0_STATE = UART_STATE_TXOVR | UART_STATE_RXOVR;
    /* The RX interrupt stays disabled in the NVIC except while
     * hal_uart_getc sleeps (see there). */
    UART0_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINTEN;
    /* QEMU delays the first received byte by ~1 s without this read. */
    (void)UART0_DATA;
}

void hal_uart_putc(uint8_t byte)
{
    while (UART0_STATE & UART_STATE_TXFULL)
        ;
    UART0_DATA = byte;
}

/* Never runs (the IRQ is enabled only under PRIMASK); acknowledges if it does. */
void UART0_RX_IRQHandler(void)
{
    UART0_INTCLEAR = UART_INT_RX;
}

/*
 * Waits in WFI rather than spinning, so an idle emulator leaves the host CPU
 * to the host (and to other emulated devices). The pending flags are cleared
 * before RXFULL is tested: a byte arriving after the test pends the
 * interrupt again and WFI returns at once.
 *
 * The RX interrupt is enabled in the NVIC only here, with PRIMASK set, so it
 * wakes WFI and no handler ever runs. Left enabled, a byte the host sends
 * ahead while a kernel runs would run UART0_RX_IRQHandler inside the timed
 * call. Nothing is lost while it is off: the UART holds the byte and QEMU's
 * chardev waits until RXFULL clears.
 */
uint8_t hal_uart_getc(void)
{
    if (!(UART0_STATE & UART_STATE_RXFULL)) {
        /* Waiting for the host is not a hang: no watchdog count meanwhile. */
        mps2_watchdog_pause();
        uint32_t primask = irq_save();
        NVIC_ISER0 = 1u << UART0_RX_IRQ;
        for (;;) {
            UART0_INTCLEAR = UART_INT_RX;
            NVIC_ICPR0 = 1u << UART0_RX_IRQ;
            if (UART0_STATE & UART_STATE_RXFULL)
                break;
            __asm volatile("wfi" ::: "memory");
        }
        NVIC_ICER0 = 1u << UART0_RX_IRQ;
        __asm volatile("dsb\n\tisb" ::: "memory");   /* disabled before PRIMASK clears */
        irq_restore(primask);
        mps2_watchdog_resume();
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
    uart_init();
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
