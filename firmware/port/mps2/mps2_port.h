/*
 * mps2_port.h: what the mps2 port's files share with each other (not part
 * of hal.h; the portable firmware never includes it).
 */
#ifndef HIL_MPS2_PORT_H
#define HIL_MPS2_PORT_H

/* watchdog.c: stop the watchdog's count while hal_uart_getc waits for the
 * host, and restart it from a full timeout once a byte is in. */
void mps2_watchdog_pause(void);
void mps2_watchdog_resume(void);

#endif /* HIL_MPS2_PORT_H */
