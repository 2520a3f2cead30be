/*
 * cmsdk_config.h: where the mps3-an547 machine puts the CMSDK peripherals
 * the shared drivers (../cmsdk) run. The core runs Secure with the SAU off,
 * so both are reached as Secure.
 */
#ifndef HIL_CMSDK_CONFIG_H
#define HIL_CMSDK_CONFIG_H

#include "armv8m.h"   /* irq_save/irq_restore, hal_port_watchdog_exception */

/* UART0 of the AN547 FPGA image, on the 25 MHz APB clock. Its combined
 * interrupt (TX | RX | overrun as enabled in CTRL) is IRQ 43. */
#define CMSDK_UART_BASE      0x49303000u
#define CMSDK_UART_HZ        25000000u
#define CMSDK_UART_IRQ       43u

/* The SSE-300's watchdog, on the 32 kHz S32KCLK, its WDOGINT wired to NMI. */
#define CMSDK_WDOG_BASE      0x4802E000u
#define CMSDK_WDOG_HZ        32000u
#define CMSDK_WDOG_EXCEPTION 2u   /* NMI */

#endif /* HIL_CMSDK_CONFIG_H */
