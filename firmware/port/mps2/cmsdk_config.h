/*
 * cmsdk_config.h: where the mps2 machines put the CMSDK peripherals the
 * shared drivers (../cmsdk) run.
 */
#ifndef HIL_CMSDK_CONFIG_H
#define HIL_CMSDK_CONFIG_H

#include "armv7m.h"   /* irq_save/irq_restore, hal_port_watchdog_exception */
#include "mps2_regs.h"

/* UART0, the host link: its RX interrupt is IRQ 0. */
#define CMSDK_UART_BASE      0x40004000u
#define CMSDK_UART_HZ        MPS2_CORE_HZ
#define CMSDK_UART_IRQ       0u

/* The watchdog, on the same 25 MHz clock, its WDOGINT wired to NMI. */
#define CMSDK_WDOG_BASE      0x40008000u
#define CMSDK_WDOG_HZ        MPS2_CORE_HZ
#define CMSDK_WDOG_EXCEPTION 2u   /* NMI */

#endif /* HIL_CMSDK_CONFIG_H */
