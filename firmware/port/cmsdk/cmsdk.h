/*
 * cmsdk.h: what the CMSDK drivers give a board port that names them in its
 * port.toml (drivers = ["cmsdk"]). Besides these, cmsdk_uart.c defines
 * hal_uart_putc/getc and cmsdk_watchdog.c hal_watchdog_start/feed and
 * hal_port_watchdog_exception.
 *
 * The board port provides cmsdk_config.h: the peripherals' addresses,
 * clocks and IRQ, and its architecture header (for irq_save/irq_restore
 * and hal_port_watchdog_exception).
 */
#ifndef HIL_CMSDK_H
#define HIL_CMSDK_H

/* cmsdk_uart.c: set up the UART at HIL_UART_BAUD; hal_init calls it. */
void cmsdk_uart_init(void);

/* cmsdk_uart.c: the vector for CMSDK_UART_IRQ in the board's vector table. */
void cmsdk_uart_irq_handler(void);

/* cmsdk_watchdog.c: stop the watchdog's count while hal_uart_getc waits for
 * the host, and restart it from a full timeout once a byte is in. */
void cmsdk_watchdog_pause(void);
void cmsdk_watchdog_resume(void);

#endif /* HIL_CMSDK_H */
