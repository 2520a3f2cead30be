/*
 * cmsdk_uart.c: the host link on a CMSDK APB UART (hal_uart_putc/getc).
 *
 * The board's cmsdk_config.h gives CMSDK_UART_BASE, CMSDK_UART_HZ (its APB
 * clock) and CMSDK_UART_IRQ, the interrupt that carries RX: a RX-only line
 * on mps2, the combined one on mps3 (only RXINTEN is set in CTRL, so it
 * fires for RX alone there too).
 */
#include <stdint.h>

#include "cmsdk.h"
#include "cmsdk_config.h"
#include "hal.h"

#ifndef HIL_UART_BAUD
#define HIL_UART_BAUD 115200u
#endif

#define UART_REG(off)     (*(volatile uint32_t *)(CMSDK_UART_BASE + (off)))
#define UART_DATA         UART_REG(0x00u)
#define UART_STATE        UART_REG(0x04u)
#define UART_CTRL         UART_REG(0x08u)
#define UART_INTCLEAR     UART_REG(0x0Cu)
#define UART_BAUDDIV      UART_REG(0x10u)
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_STATE_TXOVR  (1u << 2)
#define UART_STATE_RXOVR  (1u << 3)
#define UART_CTRL_TXEN    (1u << 0)
#define UART_CTRL_RXEN    (1u << 1)
#define UART_CTRL_RXINTEN (1u << 3)
#define UART_INT_RX       (1u << 1)

/* NVIC, the same on Armv7-M (B3.4) and Armv8-M (D1.2): one bit per IRQ, 32 per register. */
#define NVIC_ISER(n)      (*(volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ICER(n)      (*(volatile uint32_t *)(0xE000E180u + 4u * (n)))
#define NVIC_ICPR(n)      (*(volatile uint32_t *)(0xE000E280u + 4u * (n)))
#define UART_IRQ_REG      (CMSDK_UART_IRQ / 32u)
#define UART_IRQ_BIT      (1u << (CMSDK_UART_IRQ % 32u))

void cmsdk_uart_init(void)
{
    uint32_t div = CMSDK_UART_HZ / HIL_UART_BAUD;
    UART_CTRL = 0;
    UART_BAUDDIV = div < 16u ? 16u : div;   /* the CMSDK UART needs >= 16 */
    UART_STATE = UART_STATE_TXOVR | UART_STATE_RXOVR;
    /* The RX interrupt stays disabled in the NVIC except while
     * hal_uart_getc sleeps (see there). */
    UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINTEN;
    /* QEMU delays the first received byte by ~1 s without this read. */
    (void)UART_DATA;
}

void hal_uart_putc(uint8_t byte)
{
    while (UART_STATE & UART_STATE_TXFULL)
        ;
    UART_DATA = byte;
}

/* Never runs (the IRQ is enabled only under PRIMASK); acknowledges if it does. */
void cmsdk_uart_irq_handler(void)
{
    UART_INTCLEAR = UART_INT_RX;
}

/*
 * Waits in WFI rather than spinning, so an idle emulator leaves the host CPU
 * to the host (and to other emulated devices). The pending flags are cleared
 * before RXFULL is tested: a byte arriving after the test pends the
 * interrupt again and WFI returns at once.
 *
 * The RX interrupt is enabled in the NVIC only here, with PRIMASK set, so it
 * wakes WFI and no handler ever runs. Left enabled, a byte the host sends
 * ahead while a kernel runs would run cmsdk_uart_irq_handler inside the
 * timed call. Nothing is lost while it is off: the UART holds the byte and
 * QEMU's chardev waits until RXFULL clears.
 */
uint8_t hal_uart_getc(void)
{
    if (!(UART_STATE & UART_STATE_RXFULL)) {
        /* Waiting for the host is not a hang: no watchdog count meanwhile. */
        cmsdk_watchdog_pause();
        uint32_t primask = irq_save();
        NVIC_ISER(UART_IRQ_REG) = UART_IRQ_BIT;
        for (;;) {
            UART_INTCLEAR = UART_INT_RX;
            NVIC_ICPR(UART_IRQ_REG) = UART_IRQ_BIT;
            if (UART_STATE & UART_STATE_RXFULL)
                break;
            __asm volatile("wfi" ::: "memory");
        }
        NVIC_ICER(UART_IRQ_REG) = UART_IRQ_BIT;
        __asm volatile("dsb\n\tisb" ::: "memory");   /* disabled before PRIMASK clears */
        irq_restore(primask);
        cmsdk_watchdog_resume();
    }
    return (uint8_t)UART_DATA;
}
