/*
 * mps3_regs.h: the few registers the mps3 port touches.
 *
 * Addresses from the Armv8-M Architecture Reference Manual (System Control
 * Space) and the SSE-300 memory map (system counter). The core runs Secure
 * with the SAU off, so every address below is reached as Secure. Only what
 * this port uses; the UART's and the watchdog's are in cmsdk_config.h.
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
