/*
 * uart.c: USART3 on PD8 (TX) / PD9 (RX), AF7: the ST-LINK virtual COM port
 * of the NUCLEO-144 boards (UM1974, "USART communication": USART3 is wired
 * to the ST-LINK by default).
 *
 * RX runs from the interrupt into a ring buffer so bytes that arrive while a
 * layer runs are kept; TX is polled (the host waits for each response, so
 * nothing else needs the CPU while we send). The USART's kernel clock is
 * SYSCLK (RCC_DCKCFGR2.USART3SEL), which divides exactly into 115200 and
 * 2 Mbaud at 216 MHz.
 */
#include <stdint.h>

#include "hal.h"
#include "stm32f7_port.h"
#include "stm32f7_regs.h"

/* Larger than one whole frame (1 KiB payload + header + COBS overhead). */
#define RX_RING_SIZE 4096u
_Static_assert((RX_RING_SIZE & (RX_RING_SIZE - 1u)) == 0, "ring size must be a power of two");

static volatile uint8_t rx_ring[RX_RING_SIZE];
static volatile uint32_t rx_head;   /* written by the ISR only */
static volatile uint32_t rx_tail;   /* written by hal_uart_getc only */
static volatile uint32_t rx_dropped;

static void gpio_init(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIODEN;
    (void)RCC_AHB1ENR;   /* RM0385: a dummy read lets the clock enable settle */
    for (uint32_t pin = 8; pin <= 9; pin++) {
        GPIOD_MODER = (GPIOD_MODER & ~(3u << (2 * pin))) | (GPIO_MODE_AF << (2 * pin));
        GPIOD_OSPEEDR = (GPIOD_OSPEEDR & ~(3u << (2 * pin))) | (GPIO_SPEED_HIGH << (2 * pin));
        GPIOD_PUPDR = (GPIOD_PUPDR & ~(3u << (2 * pin))) | (GPIO_PULL_UP << (2 * pin));
        GPIOD_AFRH = (GPIOD_AFRH & ~(0xFu << (4 * (pin - 8)))) | (7u << (4 * (pin - 8)));
    }
}

/*
 * BRR for 16x oversampling; 8x only when the clock is too slow for 16x
 * (USARTDIV >= 16 either way). Both reach the same rates, fck / k (in 8x
 * mode BRR drops USARTDIV's lowest bit), and 16x tolerates more mismatch.
 */
static void set_baud(uint32_t fck, uint32_t baud)
{
    uint32_t div16 = (fck + baud / 2u) / baud;
    if (div16 >= 16u) {
        USART3_CR1 &= ~USART_CR1_OVER8;
        USART3_BRR = div16;
        return;
    }
    uint32_t div8 = 2u * div16;                      /* even: BRR[2:0] = USARTDIV[3:0] >> 1 */
    USART3_CR1 |= USART_CR1_OVER8;
    USART3_BRR = (div8 & ~0xFu) | ((div8 & 0xFu) >> 1);
}

void stm32f7_uart_init(uint32_t baud)
{
    gpio_init();
    RCC_DCKCFGR2 = (RCC_DCKCFGR2 & ~RCC_DCKCFGR2_USART3SEL_MASK) | RCC_DCKCFGR2_USART3SEL_SYSCLK;
    RCC_APB1ENR |= RCC_APB1ENR_USART3EN;
    (void)RCC_APB1ENR;
    RCC_APB1RSTR |= RCC_APB1RSTR_USART3RST;
    RCC_APB1RSTR &= ~RCC_APB1RSTR_USART3RST;

    USART3_CR1 = 0;                 /* 8N1; UE off while configuring */
    USART3_CR2 = 0;
    USART3_CR3 = 0;
    set_baud(SystemCoreClock, baud);
    rx_head = rx_tail = 0;
    USART3_ICR = USART_ICR_ERRORS;
    USART3_CR1 |= USART_CR1_RXNEIE | USART_CR1_TE | USART_CR1_RE | USART_CR1_UE;

    NVIC_IPR(USART3_IRQn) = 0x40u;  /* above SysTick (0xF0, set in hal_stm32f7.c): RX never waits behind it */
    NVIC_ISER(USART3_IRQn / 32u) = 1u << (USART3_IRQn % 32u);
}

void USART3_IRQHandler(void)
{
    uint32_t isr = USART3_ISR;
    if (isr & USART_ICR_ERRORS)     /* an overrun keeps the IRQ asserted until cleared */
        USART3_ICR = USART_ICR_ERRORS;
    while (USART3_ISR & USART_ISR_RXNE) {
        uint8_t byte = (uint8_t)USART3_RDR;
        uint32_t head = rx_head;
        if (head - rx_tail < RX_RING_SIZE) {
            rx_ring[head & (RX_RING_SIZE - 1u)] = byte;
            rx_head = head + 1u;
        } else {
            rx_dropped++;           /* the frame's CRC will fail and the host resends */
        }
    }
}

uint8_t hal_uart_getc(void)
{
    uint32_t tail = rx_tail;
    while (rx_head == tail)
        hal_watchdog_feed();   /* waiting for the host is not a hang */
    uint8_t byte = rx_ring[tail & (RX_RING_SIZE - 1u)];
    rx_tail = tail + 1u;
    return byte;
}

void hal_uart_putc(uint8_t byte)
{
    while (!(USART3_ISR & USART_ISR_TXE))
        ;
    USART3_TDR = byte;
}
