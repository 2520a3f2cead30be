/*
 * mps2_regs.h: the few registers the mps2 port touches.
 *
 * Addresses from the Armv7-M Architecture Reference Manual (System Control
 * Space) and the CMSDK APB timer description. Only what this port uses; the
 * UART's and the watchdog's are in cmsdk_config.h.
 */
#ifndef HIL_MPS2_REGS_H
#define HIL_MPS2_REGS_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))

/* CMSDK APB timer 0 (down-counter, reloads from RELOAD at zero) */
#define TIMER0_CTRL       REG32(0x40000000u)
#define TIMER0_VALUE      REG32(0x40000004u)
#define TIMER0_RELOAD     REG32(0x40000008u)
#define TIMER_CTRL_ENABLE (1u << 0)

/* SysTick */
#define SYST_CSR          REG32(0xE000E010u)
#define SYST_RVR          REG32(0xE000E014u)
#define SYST_CVR          REG32(0xE000E018u)
#define SYST_CSR_ENABLE   (1u << 0)
#define SYST_CSR_TICKINT  (1u << 1)
#define SYST_CSR_CLKSRC   (1u << 2)   /* processor clock */

/* System Control Block */
#define SCB_ICSR          REG32(0xE000ED04u)
#define SCB_AIRCR         REG32(0xE000ED0Cu)
#define SCB_CCR           REG32(0xE000ED14u)
#define SCB_SHCSR         REG32(0xE000ED24u)
#define SCB_CFSR          REG32(0xE000ED28u)
#define SCB_HFSR          REG32(0xE000ED2Cu)
#define SCB_MMFAR         REG32(0xE000ED34u)
#define SCB_BFAR          REG32(0xE000ED38u)
#define ICSR_PENDSTSET    (1u << 26)
#define AIRCR_SYSRESETREQ (0x05FA0000u | (1u << 2))
#define CCR_DIV_0_TRP     (1u << 4)
#define SHCSR_MEMFAULTENA (1u << 16)
#define SHCSR_BUSFAULTENA (1u << 17)
#define SHCSR_USGFAULTENA (1u << 18)

/* Debug: DEMCR and the DWT cycle counter */
#define DEMCR             REG32(0xE000EDFCu)
#define DEMCR_TRCENA      (1u << 24)
#define DWT_CTRL          REG32(0xE0001000u)
#define DWT_CYCCNT        REG32(0xE0001004u)
#define DWT_CTRL_CYCCNTENA (1u << 0)

/* The FPGA images run the core and the APB at 25 MHz. */
#define MPS2_CORE_HZ      25000000u

#endif /* HIL_MPS2_REGS_H */
