/*
 * stm32f7_port.h: what the stm32f7 port's files share with each other
 * (not part of hal.h; the portable firmware never includes it).
 */
#ifndef HIL_STM32F7_PORT_H
#define HIL_STM32F7_PORT_H

#include <stdint.h>

/* Where SYSCLK comes from after stm32f7_clock_init(). */
enum stm32f7_clock {
    STM32F7_CLOCK_HSE_PLL = 1,   /* 216 MHz from the ST-LINK's 8 MHz MCO */
    STM32F7_CLOCK_HSI = 2,       /* 16 MHz fallback: HSE or PLL did not start */
};

/* Core clock in Hz; valid after stm32f7_clock_init(). */
extern uint32_t SystemCoreClock;

enum stm32f7_clock stm32f7_clock_init(void);
enum stm32f7_clock stm32f7_clock_source(void);

/* USART3 (ST-LINK virtual COM port) at `baud` from SYSCLK; RX by interrupt. */
void stm32f7_uart_init(uint32_t baud);
void USART3_IRQHandler(void);

#endif /* HIL_STM32F7_PORT_H */
