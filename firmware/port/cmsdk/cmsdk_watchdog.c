/*
 * cmsdk_watchdog.c: hal.h's watchdog on the CMSDK APB watchdog (ARM DDI
 * 0479, "APB watchdog"). It counts down from LOAD while INTEN is set; at
 * zero it raises WDOGINT and reloads; at the next zero with the interrupt
 * still set and RESEN on, it resets. INTCLR clears the interrupt and
 * reloads. Writes need LOCK = key; any other value locks again.
 *
 * The board wires WDOGINT to CMSDK_WDOG_EXCEPTION (NMI on mps2 and mps3),
 * which the shared fault entry reports as a watchdog fault with the PC that
 * stopped making progress; the second expiry would reset the core, but the
 * fault handler keeps feeding it, so the device stays halted with its
 * report sent.
 *
 * Under QEMU -icount its clock (CMSDK_WDOG_HZ) runs in virtual time: a
 * timeout of ms covers ms * 1e6 / 2^shift instructions of work, however
 * slow the host.
 */
#include <stdint.h>

#include "cmsdk.h"
#include "cmsdk_config.h"
#include "hal.h"

#define WDOG_REG(off)     (*(volatile uint32_t *)(CMSDK_WDOG_BASE + (off)))
#define WDOG_LOAD         WDOG_REG(0x000u)
#define WDOG_CTRL         WDOG_REG(0x008u)
#define WDOG_INTCLR       WDOG_REG(0x00Cu)
#define WDOG_LOCK         WDOG_REG(0xC00u)
#define WDOG_CTRL_INTEN   (1u << 0)
#define WDOG_CTRL_RESEN   (1u << 1)
#define WDOG_UNLOCK_KEY   0x1ACCE551u

const uint32_t hal_port_watchdog_exception = CMSDK_WDOG_EXCEPTION;

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
    uint64_t ticks = ((uint64_t)ms * CMSDK_WDOG_HZ + 999u) / 1000u;
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
void cmsdk_watchdog_pause(void)
{
    if (armed_ctrl)
        wdog_write(&WDOG_CTRL, 0);
}

void cmsdk_watchdog_resume(void)
{
    hal_watchdog_feed();   /* a full timeout from here */
    if (armed_ctrl)
        wdog_write(&WDOG_CTRL, armed_ctrl);
}
