/*
 * mps3_port.h: what the mps3 port's files share with each other (not part
 * of hal.h; the portable firmware never includes it).
 */
#ifndef HIL_MPS3_PORT_H
#define HIL_MPS3_PORT_H

/* watchdog.c: stop the watchdog's count while hal_uart_getc waits for the
 * host, and restart it from a full timeout once a byte is in. */
void mps3_watchdog_pause(void);
void mps3_watchdog_resume(void);

#endif /* HIL_MPS3_PORT_H */
