/*
 * hal.h: the only seam between the portable firmware and a board family.
 *
 * Each family under firmware/port/<family>/ implements every function
 * here, plus its startup code and linker script. Nothing else in the
 * firmware touches a peripheral register.
 */
#ifndef HIL_HAL_H
#define HIL_HAL_H

#include <stddef.h>
#include <stdint.h>

/* Clock, UART, cycle counter and fault handler set up; called once from main. */
void hal_init(void);

/* Blocking write of one byte to the host link (waits while TX is full). */
void hal_uart_putc(uint8_t byte);

/* Blocking read of one byte from the host link. */
uint8_t hal_uart_getc(void);

/*
 * Cycle counter. hal_cycles_now() is a free-running 64-bit count in units of
 * hal_cycle_source_hz(). hal_cycle_source() says what it counts:
 *   HAL_CYCLES_DWT      core clock cycles from DWT_CYCCNT (silicon)
 *   HAL_CYCLES_SYSTICK  SysTick ticks on the processor clock (emulators
 *                       without a DWT; under QEMU -icount these are
 *                       proportional to executed instructions)
 *   HAL_CYCLES_TIMER    ticks of a free-running peripheral timer on the
 *                       processor clock, read without interrupts (emulators
 *                       without a DWT; under QEMU -icount these are
 *                       proportional to executed instructions)
 *   HAL_CYCLES_HOST     nanoseconds of a host build (firmware/port/host),
 *                       wall-clock time: for tests only, never a cycle count
 * The choice is made at run time in hal_init() by probing the DWT.
 *
 * The firmware times a kernel call by two hal_cycles_now() reads around it.
 * No handler may run in between, whatever the host sends meanwhile (it
 * sends the next input while the device computes): a port receives without
 * running code per byte while a kernel runs (mps2: the UART holds the byte,
 * its RX interrupt only wakes WFI inside hal_uart_getc; stm32f7: DMA into
 * the RX ring) and extends its counter on read, not from a timer interrupt.
 * Only a fallback source that cannot do without one (stm32f7's SysTick)
 * includes its handler; its port's README says so.
 */
enum hal_cycle_source {
    HAL_CYCLES_DWT = 1, HAL_CYCLES_SYSTICK = 2, HAL_CYCLES_HOST = 3, HAL_CYCLES_TIMER = 4
};
uint64_t hal_cycles_now(void);
enum hal_cycle_source hal_cycle_source(void);
uint32_t hal_cycle_source_hz(void);

/* Reset the device (does not return). */
void hal_reset(void) __attribute__((noreturn));

/*
 * Why the device last came out of reset; values equal the protocol's
 * reset_cause enum. Ports that cannot tell return HAL_RESET_UNKNOWN.
 */
enum hal_reset_cause {
    HAL_RESET_UNKNOWN = 0, HAL_RESET_POWER_ON = 1, HAL_RESET_PIN = 2,
    HAL_RESET_SOFTWARE = 3, HAL_RESET_WATCHDOG = 4
};
enum hal_reset_cause hal_reset_cause(void);

/*
 * Watchdog. hal_watchdog_start(ms) arms it once after hal_init (0 leaves it
 * off); the port rounds ms to what its hardware can do, never below it, up
 * to its maximum. The portable firmware calls hal_watchdog_feed() each time
 * it makes progress (a kernel call starts or ends, a frame goes out).
 * Waiting for the host is not a hang: hal_uart_getc keeps the watchdog from
 * expiring while it waits for a byte.
 *
 * On expiry a port whose watchdog can interrupt first (mps2: CMSDK watchdog
 * -> NMI) reports through hil_on_fault with cause HAL_FAULT_WATCHDOG; one
 * that can only reset (stm32f7: IWDG) reboots, and the next boot's
 * hal_reset_cause() says HAL_RESET_WATCHDOG.
 */
void hal_watchdog_start(uint32_t ms);
void hal_watchdog_feed(void);

/*
 * Provided by the portable firmware, called by the port's fault handler
 * with the stacked exception frame and the fault status registers. It
 * reports the fault to the host and never returns.
 */
enum hal_fault_cause { HAL_FAULT_CPU = 0, HAL_FAULT_WATCHDOG = 1 };   /* = protocol fault_cause */
struct hal_fault {
    uint32_t r0, r1, r2, r3, r12, lr, pc, xpsr;
    uint32_t cfsr, hfsr, mmfar, bfar, exc_return;
    enum hal_fault_cause cause;
};
void hil_on_fault(const struct hal_fault *fault) __attribute__((noreturn));

#endif /* HIL_HAL_H */
