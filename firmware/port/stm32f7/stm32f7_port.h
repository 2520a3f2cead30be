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

/* watchdog.c: read (and clear) RCC_CSR's reset flags for hal_reset_cause();
 * the IWDG prescaler and reload for a timeout of at least ms. */
void stm32f7_reset_cause_init(void);
void stm32f7_iwdg_divider(uint32_t ms, uint32_t *pr, uint32_t *rlr);

#endif /* HIL_STM32F7_PORT_H */
