/*
 * watchdog.c: hal.h's watchdog for the mps3-an547 machine, on the SSE-300's
 * CMSDK APB watchdog. Its first expiry raises NMI, which the shared fault
 * entry reports as a watchdog fault with the PC that stopped making
 * progress; the fault handler keeps feeding it, so the device stays halted
 * with its report sent.
 *
 * Under QEMU -icount its clock runs in virtual time: a timeout of ms covers
 * ms * 1e6 / 2^shift instructions of work, however slow the host.
 */
#include <stdint.h>

#include "armv8m.h"
#include "hal.h"
#include "mps3_port.h"
#include "mps3_regs.h"

const uint32_t hal_port_watchdog_exception = NMI_EXCEPTION;

static uint32_t armed_ctrl;   /* 0 while the watchdog is off */

static void wdog_write(volatile uint32_t *reg, uint32_t value)
{
    WDOG_LOCK = WDOG_UNLOCK_KEY;
    *reg = value;
    WDOG_LOCK = 0;
}

void hal_watchdog_start(uint32_t ms)
{
    if (ms == 0)
        return;
    uint64_t ticks = ((uint64_t)ms * WDOG_HZ + 999u) / 1000u;
    wdog_write(&WDOG_LOAD, ticks > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)ticks);
    armed_ctrl = WDOG_CTRL_INTEN | WDOG_CTRL_RESEN;
    wdog_write(&WDOG_CTRL, armed_ctrl);
}

void hal_watchdog_feed(void)
{
    if (armed_ctrl)
        wdog_write(&WDOG_INTCLR, 1u);
}

/* hal_uart_getc: the counter stops (INTEN off) while the firmware waits for the host. */
void mps3_watchdog_pause(void)
{
    if (armed_ctrl)
        wdog_write(&WDOG_CTRL, 0);
}

void mps3_watchdog_resume(void)
{
    hal_watchdog_feed();   /* a full timeout from here */
    if (armed_ctrl)
        wdog_write(&WDOG_CTRL, armed_ctrl);
}

/* QEMU models no reset-cause register for this machine. */
enum hal_reset_cause hal_reset_cause(void)
{
    return HAL_RESET_UNKNOWN;
}
