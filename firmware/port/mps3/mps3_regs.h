/*
 * mps3_regs.h: the few registers the mps3 port touches.
 *
 * Addresses from the Armv8-M Architecture Reference Manual (System Control
 * Space), the AN547 memory map (FPGA peripherals) and the SSE-300 one
 * (system counter, watchdog). The core runs Secure with the SAU off, so
 * every address below is reached as Secure. Only what this port uses.
 */
#ifndef HIL_MPS3_REGS_H
#define HIL_MPS3_REGS_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))

/* SSE-300 system counter (the SSE-123 "System counter" model): a 64-bit
 * up-counter on the 32 MHz SYSCLK. The control frame is Secure-only; the
 * status frame reads the count. */
#define CNT_CONTROL_BASE  0x58100000u
#define CNTCR             REG32(CNT_CONTROL_BASE + 0x000u)
#define CNTCR_EN          (1u << 0)
#define CNT_STATUS_BASE   0x48101000u
#define CNTCV_LO          REG32(CNT_STATUS_BASE + 0x000u)
#define CNTCV_HI          REG32(CNT_STATUS_BASE + 0x004u)

/* CMSDK APB watchdog of the SSE-300 (ARM DDI 0479, "APB watchdog"): counts
 * down from LOAD while INTEN is set; at zero it raises WDOGINT (wired to
 * NMI) and reloads; at the next zero with the interrupt still set and RESEN
 * on, it resets. INTCLR clears the interrupt and reloads. Writes need
 * LOCK = key; any other value locks again. */
#define WDOG_BASE         0x4802E000u
#define WDOG_LOAD         REG32(WDOG_BASE + 0x000u)
#define WDOG_CTRL         REG32(WDOG_BASE + 0x008u)
#define WDOG_INTCLR       REG32(WDOG_BASE + 0x00Cu)
#define WDOG_LOCK         REG32(WDOG_BASE + 0xC00u)
#define WDOG_CTRL_INTEN   (1u << 0)
#define WDOG_CTRL_RESEN   (1u << 1)
#define WDOG_UNLOCK_KEY   0x1ACCE551u
#define NMI_EXCEPTION     2u
#define WDOG_HZ           32000u   /* S32KCLK */

/* CMSDK APB UART0 of the AN547 FPGA image, on the 25 MHz APB clock. Its
 * combined interrupt (TX | RX | overrun as enabled in CTRL) is IRQ 43. */
#define UART0_BASE        0x49303000u
#define UART0_DATA        REG32(UART0_BASE + 0x00u)
#define UART0_STATE       REG32(UART0_BASE + 0x04u)
#define UART0_CTRL        REG32(UART0_BASE + 0x08u)
#define UART0_INTCLEAR    REG32(UART0_BASE + 0x0Cu)
#define UART0_BAUDDIV     REG32(UART0_BASE + 0x10u)
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_STATE_TXOVR  (1u << 2)
#define UART_STATE_RXOVR  (1u << 3)
#define UART_CTRL_TXEN    (1u << 0)
#define UART_CTRL_RXEN    (1u << 1)
#define UART_CTRL_RXINTEN (1u << 3)
#define UART_INT_RX       (1u << 1)
#define UART0_IRQ         43u
#define UART_APB_HZ       25000000u

/* NVIC (Armv8-M ARM, D1.2): one bit per IRQ, 32 per register. */
#define NVIC_ISER(n)      REG32(0xE000E100u + 4u * (n))
#define NVIC_ICER(n)      REG32(0xE000E180u + 4u * (n))
#define NVIC_ICPR(n)      REG32(0xE000E280u + 4u * (n))

/* System Control Block */
#define SCB_AIRCR         REG32(0xE000ED0Cu)
#define SCB_CCR           REG32(0xE000ED14u)
#define SCB_SHCSR         REG32(0xE000ED24u)
#define AIRCR_SYSRESETREQ (0x05FA0000u | (1u << 2))
#define CCR_DIV_0_TRP     (1u << 4)
#define SHCSR_MEMFAULTENA (1u << 16)
#define SHCSR_BUSFAULTENA (1u << 17)
#define SHCSR_USGFAULTENA (1u << 18)
#define SHCSR_SECUREFAULTENA (1u << 19)

/* Debug: DEMCR and the DWT cycle counter */
#define DEMCR             REG32(0xE000EDFCu)
#define DEMCR_TRCENA      (1u << 24)
#define DWT_CTRL          REG32(0xE0001000u)
#define DWT_CYCCNT        REG32(0xE0001004u)
#define DWT_CTRL_CYCCNTENA (1u << 0)

/* SYSCLK of the AN547 image: the core and the system counter. */
#define MPS3_SYSCLK_HZ    32000000u

#endif /* HIL_MPS3_REGS_H */
