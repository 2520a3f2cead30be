/*
 * watchdog.c: hal.h's watchdog and reset cause for the STM32F7 (RM0385,
 * "Independent watchdog (IWDG)" and RCC_CSR).
 *
 * The IWDG cannot interrupt before it resets and cannot be stopped once
 * started, so an expiry reboots the board; the next boot reads IWDGRSTF
 * and its HELLO says reset_cause WATCHDOG. hal_uart_getc feeds it while it
 * waits for the host. It is frozen while a debugger halts the core, so
 * flashing and stepping never trip it.
 */
#include <stdint.h>

#include "armv7m.h"
#include "hal.h"
#include "stm32f7_port.h"
#include "stm32f7_regs.h"

/* The LSI runs between 17 and 47 kHz (DS10916): timeouts are computed at
 * the fastest, so the watchdog never fires before the requested time. */
#define LSI_MAX_HZ 47000u
#define RLR_MAX 0xFFFu
#define PR_MAX 6u   /* divider 4 << PR: 4 .. 256 */

const uint32_t hal_port_watchdog_exception = 0;   /* the IWDG only resets */

static int armed;
static enum hal_reset_cause boot_cause;

/* Reads and clears the reset flags; the flags are sticky across resets, so
 * the most telling one is taken (every reset also drives NRST: PINRSTF). */
void stm32f7_reset_cause_init(void)
{
    uint32_t csr = RCC_CSR;
    if (csr & (RCC_CSR_IWDGRSTF | RCC_CSR_WWDGRSTF))
        boot_cause = HAL_RESET_WATCHDOG;
    else if (csr & RCC_CSR_SFTRSTF)
        boot_cause = HAL_RESET_SOFTWARE;
    else if (csr & (RCC_CSR_PORRSTF | RCC_CSR_BORRSTF))
        boot_cause = HAL_RESET_POWER_ON;
    else if (csr & RCC_CSR_PINRSTF)
        boot_cause = HAL_RESET_PIN;
    else
        boot_cause = HAL_RESET_UNKNOWN;
    RCC_CSR |= RCC_CSR_RMVF;
}

enum hal_reset_cause hal_reset_cause(void)
{
    return boot_cause;
}

/* Smallest divider whose 12-bit reload reaches ms; the longest timeout if none does. */
void stm32f7_iwdg_divider(uint32_t ms, uint32_t *pr, uint32_t *rlr)
{
    uint64_t lsi_ticks = ((uint64_t)ms * LSI_MAX_HZ + 999u) / 1000u;
    for (uint32_t p = 0; p <= PR_MAX; p++) {
        uint64_t counts = (lsi_ticks + (4u << p) - 1u) / (4u << p);
        if (counts <= RLR_MAX + 1u) {
            *pr = p;
            *rlr = counts ? (uint32_t)counts - 1u : 0u;
            return;
        }
    }
    *pr = PR_MAX;
    *rlr = RLR_MAX;
}

void hal_watchdog_start(uint32_t ms)
{
    if (ms == 0)
        return;
    uint32_t pr, rlr;
    stm32f7_iwdg_divider(ms, &pr, &rlr);
    DBGMCU_APB1_FZ |= DBGMCU_IWDG_STOP;
    IWDG_KR = IWDG_KEY_START;      /* also starts the LSI */
    IWDG_KR = IWDG_KEY_UNLOCK;
    IWDG_PR = pr;
    IWDG_RLR = rlr;
    while (IWDG_SR & IWDG_SR_BUSY)
        ;
    IWDG_KR = IWDG_KEY_RELOAD;
    armed = 1;
}

void hal_watchdog_feed(void)
{
    if (armed)
        IWDG_KR = IWDG_KEY_RELOAD;
}
