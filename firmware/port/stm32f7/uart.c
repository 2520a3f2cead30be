/*
 * uart.c: USART3 on PD8 (TX) / PD9 (RX), AF7: the ST-LINK virtual COM port
 * of the NUCLEO-144 boards (UM1974, "USART communication": USART3 is wired
 * to the ST-LINK by default).
 *
 * RX goes into a ring buffer so bytes that arrive while a layer runs are
 * kept (the host sends the next input while the device computes). DMA1
 * stream 1 fills it in circular mode: no handler runs for a received byte,
 * so none lands inside a kernel's DWT count (README.md). Where the DMA does
 * not serve the USART (an emulator that models no USART DMA request, such
 * as Renode's STM32F746), hal_uart_getc notices the byte left waiting in
 * RDR and falls back to the RXNE interrupt for good. TX is polled (the host
 * waits for each response, so nothing else needs the CPU while we send).
 * The USART's kernel clock is SYSCLK (RCC_DCKCFGR2.USART3SEL), which
 * divides exactly into 115200 and 2 Mbaud at 216 MHz.
 */
#include <stdint.h>

#include "hal.h"
#include "stm32f7_port.h"
#include "stm32f7_regs.h"

/* Larger than one whole frame (1 KiB payload + header + COBS overhead). */
#define RX_RING_SIZE 8192u
#define RX_RING_MASK (RX_RING_SIZE - 1u)
_Static_assert((RX_RING_SIZE & (RX_RING_SIZE - 1u)) == 0, "ring size must be a power of two");

/*
 * Polls of an empty ring with a byte waiting in RDR before hal_uart_getc
 * decides the DMA does not serve the USART. Silicon's DMA takes a byte
 * within a few bus cycles; this is tens of microseconds even at 16 MHz.
 */
#define RX_DMA_UNSERVED_POLLS 1000u

/*
 * In DTCM (stm32f746.ld): the D-cache never holds it, so what the DMA writes
 * is what the CPU reads, with no cache maintenance. The DMA's memory port
 * reaches DTCM through the Cortex-M7's AHBS (RM0385, "System architecture").
 */
static volatile uint8_t rx_ring[RX_RING_SIZE] __attribute__((section(".rx_ring"), aligned(4)));
static volatile uint32_t rx_tail;   /* bytes taken, written by hal_uart_getc only */
static volatile uint32_t rx_head;   /* bytes in, written by the ISR only (interrupt mode) */
static volatile uint32_t rx_dropped;
static uint8_t rx_by_irq;           /* 0: DMA fills the ring; 1: USART3_IRQHandler does */

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

/*
 * DMA1 stream 1, channel 4 (USART3_RX), byte by byte from RDR into rx_ring,
 * circular, in direct mode (no FIFO: each byte is in the ring as soon as it
 * is received), with no DMA interrupt.
 */
static void rx_dma_init(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_DMA1EN;
    (void)RCC_AHB1ENR;
    DMA1_S1CR = 0;
    while (DMA1_S1CR & DMA_SxCR_EN)   /* a stream takes effect disabled only once EN reads 0 */
        ;
    DMA1_LIFCR = DMA_LIFCR_STREAM1;
    DMA1_S1PAR = USART3_RDR_ADDR;
    DMA1_S1M0AR = (uint32_t)(uintptr_t)rx_ring;
    DMA1_S1NDTR = RX_RING_SIZE;
    DMA1_S1FCR = DMA_SxFCR_DIRECT;
    DMA1_S1CR = DMA_SxCR_CHSEL(USART3_RX_DMA_CHANNEL) | DMA_SxCR_PL_HIGH | DMA_SxCR_MINC |
                DMA_SxCR_CIRC | DMA_SxCR_EN;   /* DIR = 00: peripheral to memory, bytes */
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
    rx_by_irq = 0;
    rx_dma_init();
    USART3_ICR = USART_ICR_ERRORS;
    USART3_CR3 = USART_CR3_DMAR;    /* DDRE = 0: a byte with an error is skipped, the DMA goes on */
    USART3_CR1 |= USART_CR1_TE | USART_CR1_RE | USART_CR1_UE;
    /* Enabled in the NVIC only if the DMA turns out not to serve the USART. */
    NVIC_IPR(USART3_IRQn) = 0x40u;  /* above SysTick (0xF0, set in hal_stm32f7.c): RX never waits behind it */
}

/* Bytes received so far (mod 2^32): the ring holds those from rx_tail on. */
static uint32_t rx_received(void)
{
    if (rx_by_irq)
        return rx_head;
    /* NDTR counts down from RX_RING_SIZE and reloads; reading 0 means position 0 too. */
    uint32_t pos = (RX_RING_SIZE - DMA1_S1NDTR) & RX_RING_MASK;
    uint32_t tail = rx_tail;
    return tail + ((pos - tail) & RX_RING_MASK);
}

/* The DMA left a byte in RDR: serve RX from the RXNE interrupt from now on. */
static void rx_fall_back_to_irq(void)
{
    uint32_t head = rx_received();   /* whatever the DMA did write stays readable */
    USART3_CR3 &= ~USART_CR3_DMAR;
    DMA1_S1CR &= ~DMA_SxCR_EN;
    rx_head = head;
    rx_by_irq = 1;
    USART3_CR1 |= USART_CR1_RXNEIE;
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

/*
 * A full ring (RX_RING_SIZE bytes unread; one fewer with the DMA) loses
 * bytes either way: the ISR drops the newest, the DMA overwrites the oldest
 * (and the ring reads as empty again). The host
 * keeps at most 3 frames in flight, which fit; a lost byte fails its
 * frame's CRC and the host resends.
 */
uint8_t hal_uart_getc(void)
{
    uint32_t tail = rx_tail, unserved = 0;
    while (rx_received() == tail) {
        hal_watchdog_feed();   /* waiting for the host is not a hang */
        if (!rx_by_irq && (USART3_ISR & USART_ISR_RXNE) && ++unserved == RX_DMA_UNSERVED_POLLS)
            rx_fall_back_to_irq();
    }
    /* The DMA's count is read before the byte it stands for. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint8_t byte = rx_ring[tail & RX_RING_MASK];
    rx_tail = tail + 1u;
    return byte;
}

void hal_uart_putc(uint8_t byte)
{
    while (!(USART3_ISR & USART_ISR_TXE))
        ;
    USART3_TDR = byte;
}
