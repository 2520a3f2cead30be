/*
 * clock.c: SYSCLK at 216 MHz from the ST-LINK's 8 MHz MCO, or 16 MHz HSI.
 *
 * On the NUCLEO-F746ZG the ST-LINK drives PH0/OSC_IN with an 8 MHz clock
 * (UM1974, "HSE clock": MCO from ST-LINK, the default solder bridges), so
 * HSE runs in bypass mode. The sequence follows RM0385, "Entering
 * Over-drive mode": PLL configured and on, over-drive enabled and switched,
 * flash latency and bus prescalers set, then wait for lock and switch.
 * 216 MHz at 2.7-3.6 V needs 7 wait states ("Number of wait states
 * according to CPU clock frequency" table).
 *
 * When HSE does not start (solder bridges changed, ST-LINK firmware without
 * MCO) or the PLL or over-drive never report ready, the core stays on HSI
 * at 16 MHz without the PLL. The HELLO frame's cycle_hz then reads
 * 16000000 instead of 216000000, which is how the host sees the fallback.
 */
#include <stdint.h>

#include "stm32f7_port.h"
#include "stm32f7_regs.h"

#define HSI_HZ   16000000u
#define PLL_HZ   216000000u
#define PLL_M    4u      /* 8 MHz / 4 = 2 MHz VCO input (the datasheet's jitter advice) */
#define PLL_N    216u    /* 432 MHz VCO */
#define PLL_Q    9u      /* 48 MHz for USB/SDMMC, unused here but kept in range */
#define FLASH_WS_216MHZ 7u

/* Polls of a ready flag before giving up; far longer than any start-up time
 * in the datasheet (HSE bypass: immediate; PLL lock: ~100 us) at 16 MHz. */
#define READY_POLLS 200000u

uint32_t SystemCoreClock = HSI_HZ;
static enum stm32f7_clock clock_source = STM32F7_CLOCK_HSI;

static int wait_set(volatile uint32_t *reg, uint32_t mask)
{
    for (uint32_t i = 0; i < READY_POLLS; i++)
        if ((*reg & mask) == mask)
            return 1;
    return 0;
}

static int hse_bypass_start(void)
{
    RCC_CR |= RCC_CR_HSEBYP;       /* HSEBYP may only change while HSE is off */
    RCC_CR |= RCC_CR_HSEON;
    if (wait_set(&RCC_CR, RCC_CR_HSERDY))
        return 1;
    RCC_CR &= ~RCC_CR_HSEON;
    RCC_CR &= ~RCC_CR_HSEBYP;
    return 0;
}

static void set_flash_latency(uint32_t ws)
{
    FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | ws | FLASH_ACR_PRFTEN | FLASH_ACR_ARTEN;
    (void)FLASH_ACR;   /* RM0385: read back so the new latency is in effect before a faster clock */
}

/* Back to the reset clock tree: HSI, no PLL, no over-drive. */
static void fall_back_to_hsi(void)
{
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_HSI;
    while ((RCC_CFGR & RCC_CFGR_SWS_MASK) != RCC_CFGR_SWS_HSI)
        ;
    RCC_CR &= ~RCC_CR_PLLON;
    /* RM0385, "Exiting from Over-drive mode": switch back first, then disable. */
    PWR_CR1 &= ~PWR_CR1_ODSWEN;
    for (uint32_t i = 0; i < READY_POLLS && (PWR_CSR1 & PWR_CSR1_ODSWRDY); i++)
        ;
    PWR_CR1 &= ~PWR_CR1_ODEN;
    RCC_CR &= ~(RCC_CR_HSEON);
    RCC_CR &= ~(RCC_CR_HSEBYP);
    RCC_CFGR &= ~RCC_CFGR_PRE_MASK;
    set_flash_latency(0);          /* lowered only after the clock is */
    SystemCoreClock = HSI_HZ;
    clock_source = STM32F7_CLOCK_HSI;
}

enum stm32f7_clock stm32f7_clock_init(void)
{
    RCC_CR |= RCC_CR_HSION;
    (void)wait_set(&RCC_CR, RCC_CR_HSIRDY);

    /* Voltage scale 1 (needed for 216 MHz) may only change while the PLL is off. */
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    PWR_CR1 = (PWR_CR1 & ~PWR_CR1_VOS_MASK) | PWR_CR1_VOS_SCALE1;

    if (!hse_bypass_start()) {
        fall_back_to_hsi();
        return clock_source;
    }

    uint32_t pll = RCC_PLLCFGR;
    pll &= ~(0x3Fu | (0x1FFu << 6) | (3u << 16) | RCC_PLLCFGR_SRC_HSE | (0xFu << 24));
    pll |= RCC_PLLCFGR_M(PLL_M) | RCC_PLLCFGR_N(PLL_N) | RCC_PLLCFGR_P2 |
           RCC_PLLCFGR_SRC_HSE | RCC_PLLCFGR_Q(PLL_Q);
    RCC_PLLCFGR = pll;
    RCC_CR |= RCC_CR_PLLON;

    PWR_CR1 |= PWR_CR1_ODEN;
    if (!wait_set(&PWR_CSR1, PWR_CSR1_ODRDY)) {
        fall_back_to_hsi();
        return clock_source;
    }
    PWR_CR1 |= PWR_CR1_ODSWEN;
    if (!wait_set(&PWR_CSR1, PWR_CSR1_ODSWRDY)) {
        fall_back_to_hsi();
        return clock_source;
    }

    set_flash_latency(FLASH_WS_216MHZ);
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_PRE_MASK) |
               RCC_CFGR_HPRE_DIV1 | RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2;

    if (!wait_set(&RCC_CR, RCC_CR_PLLRDY)) {
        fall_back_to_hsi();
        return clock_source;
    }
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
    while ((RCC_CFGR & RCC_CFGR_SWS_MASK) != RCC_CFGR_SWS_PLL)
        ;
    SystemCoreClock = PLL_HZ;
    clock_source = STM32F7_CLOCK_HSE_PLL;
    return clock_source;
}

enum stm32f7_clock stm32f7_clock_source(void)
{
    return clock_source;
}
