/*
 * stm32f7_regs.h: the registers the stm32f7 port touches, and nothing else.
 *
 * Peripheral addresses and bit positions from RM0385 (STM32F75xxx and
 * STM32F74xxx advanced Arm-based 32-bit MCUs, reference manual): "Memory
 * map" (register boundary addresses), "Power controller (PWR)" registers,
 * "Embedded Flash memory" (FLASH_ACR and the wait-state table), "Reset and
 * clock control (RCC)" registers, "General-purpose I/Os (GPIO)" registers,
 * "Universal synchronous receiver transmitter (USART)" registers, "DMA
 * controller (DMA)" registers and its DMA1 request mapping, and the
 * NVIC chapter's vector table (USART3 is IRQ 39, 98 IRQs in all). Core
 * registers from the Armv7-M Architecture Reference Manual (System Control
 * Space) and the Cortex-M7 Technical Reference Manual (cache maintenance,
 * the DWT lock access register).
 */
#ifndef HIL_STM32F7_REGS_H
#define HIL_STM32F7_REGS_H

#include <stdint.h>

/* A host test of the port (tests/firmware/test_stm32f7_logic.py) maps these onto a register model. */
#ifndef REG32
#define REG32(addr) (*(volatile uint32_t *)(addr))
#endif
#ifndef REG8
#define REG8(addr)  (*(volatile uint8_t *)(addr))
#endif

/* ---- RCC (0x4002 3800) ---- */
#define RCC_BASE          0x40023800u
#define RCC_CR            REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR       REG32(RCC_BASE + 0x04u)
#define RCC_CFGR          REG32(RCC_BASE + 0x08u)
#define RCC_APB1RSTR      REG32(RCC_BASE + 0x20u)
#define RCC_AHB1ENR       REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR       REG32(RCC_BASE + 0x40u)
#define RCC_DCKCFGR2      REG32(RCC_BASE + 0x90u)
#define RCC_CSR           REG32(RCC_BASE + 0x74u)
#define RCC_CSR_RMVF      (1u << 24)   /* write 1: clear the reset flags */
#define RCC_CSR_BORRSTF   (1u << 25)
#define RCC_CSR_PINRSTF   (1u << 26)
#define RCC_CSR_PORRSTF   (1u << 27)
#define RCC_CSR_SFTRSTF   (1u << 28)
#define RCC_CSR_IWDGRSTF  (1u << 29)
#define RCC_CSR_WWDGRSTF  (1u << 30)

#define RCC_CR_HSION      (1u << 0)
#define RCC_CR_HSIRDY     (1u << 1)
#define RCC_CR_HSEON      (1u << 16)
#define RCC_CR_HSERDY     (1u << 17)
#define RCC_CR_HSEBYP     (1u << 18)
#define RCC_CR_PLLON      (1u << 24)
#define RCC_CR_PLLRDY     (1u << 25)

#define RCC_PLLCFGR_M(m)  ((uint32_t)(m) << 0)    /* 2..63 */
#define RCC_PLLCFGR_N(n)  ((uint32_t)(n) << 6)    /* 50..432 */
#define RCC_PLLCFGR_P2    (0u << 16)              /* P = 2 */
#define RCC_PLLCFGR_SRC_HSE (1u << 22)
#define RCC_PLLCFGR_Q(q)  ((uint32_t)(q) << 24)   /* 2..15 */

#define RCC_CFGR_SW_MASK  (3u << 0)
#define RCC_CFGR_SW_HSI   (0u << 0)
#define RCC_CFGR_SW_PLL   (2u << 0)
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_HSI  (0u << 2)
#define RCC_CFGR_SWS_PLL  (2u << 2)
#define RCC_CFGR_HPRE_DIV1  (0u << 4)
#define RCC_CFGR_PPRE1_DIV4 (5u << 10)            /* APB1 <= 54 MHz */
#define RCC_CFGR_PPRE2_DIV2 (4u << 13)            /* APB2 <= 108 MHz */
#define RCC_CFGR_PRE_MASK   ((0xFu << 4) | (7u << 10) | (7u << 13))

#define RCC_AHB1ENR_GPIODEN  (1u << 3)
#define RCC_AHB1ENR_DMA1EN   (1u << 21)
#define RCC_APB1ENR_USART3EN (1u << 18)
#define RCC_APB1ENR_PWREN    (1u << 28)
#define RCC_APB1RSTR_USART3RST (1u << 18)
#define RCC_DCKCFGR2_USART3SEL_MASK   (3u << 4)
#define RCC_DCKCFGR2_USART3SEL_SYSCLK (1u << 4)

/* ---- IWDG (0x4000 3000), clocked by the ~32 kHz LSI ---- */
#define IWDG_KR           REG32(0x40003000u)
#define IWDG_PR           REG32(0x40003004u)
#define IWDG_RLR          REG32(0x40003008u)
#define IWDG_SR           REG32(0x4000300Cu)
#define IWDG_KEY_RELOAD   0xAAAAu
#define IWDG_KEY_UNLOCK   0x5555u   /* write access to PR and RLR */
#define IWDG_KEY_START    0xCCCCu
#define IWDG_SR_BUSY      0x7u      /* PVU | RVU | WVU: an update is still in flight */

/* ---- DBGMCU: APB1 peripherals frozen while the core is halted ---- */
#define DBGMCU_APB1_FZ    REG32(0xE0042008u)
#define DBGMCU_IWDG_STOP  (1u << 12)

/* ---- PWR (0x4000 7000) ---- */
#define PWR_BASE          0x40007000u
#define PWR_CR1           REG32(PWR_BASE + 0x00u)
#define PWR_CSR1          REG32(PWR_BASE + 0x04u)
#define PWR_CR1_VOS_SCALE1 (3u << 14)
#define PWR_CR1_VOS_MASK  (3u << 14)
#define PWR_CR1_ODEN      (1u << 16)
#define PWR_CR1_ODSWEN    (1u << 17)
#define PWR_CSR1_ODRDY    (1u << 16)
#define PWR_CSR1_ODSWRDY  (1u << 17)

/* ---- Flash interface (0x4002 3C00) ---- */
#define FLASH_ACR         REG32(0x40023C00u)
#define FLASH_ACR_LATENCY_MASK 0xFu
#define FLASH_ACR_PRFTEN  (1u << 8)
#define FLASH_ACR_ARTEN   (1u << 9)

/* ---- GPIOD (0x4002 0C00) ---- */
#define GPIOD_BASE        0x40020C00u
#define GPIOD_MODER       REG32(GPIOD_BASE + 0x00u)
#define GPIOD_OSPEEDR     REG32(GPIOD_BASE + 0x08u)
#define GPIOD_PUPDR       REG32(GPIOD_BASE + 0x0Cu)
#define GPIOD_AFRH        REG32(GPIOD_BASE + 0x24u)
#define GPIO_MODE_AF      2u
#define GPIO_SPEED_HIGH   2u
#define GPIO_PULL_UP      1u

/* ---- USART3 (0x4000 4800) ---- */
#define USART3_BASE       0x40004800u
#define USART3_CR1        REG32(USART3_BASE + 0x00u)
#define USART3_CR2        REG32(USART3_BASE + 0x04u)
#define USART3_CR3        REG32(USART3_BASE + 0x08u)
#define USART3_BRR        REG32(USART3_BASE + 0x0Cu)
#define USART3_ISR        REG32(USART3_BASE + 0x1Cu)
#define USART3_ICR        REG32(USART3_BASE + 0x20u)
#define USART3_RDR        REG32(USART3_BASE + 0x24u)
#define USART3_TDR        REG32(USART3_BASE + 0x28u)
#define USART3_RDR_ADDR   (USART3_BASE + 0x24u)   /* for the DMA's peripheral address */
#define USART_CR1_UE      (1u << 0)
#define USART_CR1_RE      (1u << 2)
#define USART_CR1_TE      (1u << 3)
#define USART_CR1_RXNEIE  (1u << 5)
#define USART_CR1_OVER8   (1u << 15)
#define USART_CR3_DMAR    (1u << 6)
#define USART_ISR_PE      (1u << 0)
#define USART_ISR_FE      (1u << 1)
#define USART_ISR_NF      (1u << 2)
#define USART_ISR_ORE     (1u << 3)
#define USART_ISR_RXNE    (1u << 5)
#define USART_ISR_TC      (1u << 6)
#define USART_ISR_TXE     (1u << 7)
#define USART_ICR_ERRORS  (USART_ISR_PE | USART_ISR_FE | USART_ISR_NF | USART_ISR_ORE)
#define USART3_IRQn       39u

/* ---- DMA1 (0x4002 6000): stream 1, channel 4 is USART3_RX ---- */
#define DMA1_BASE         0x40026000u
#define DMA1_LIFCR        REG32(DMA1_BASE + 0x08u)
#define DMA1_S1CR         REG32(DMA1_BASE + 0x10u + 0x18u)
#define DMA1_S1NDTR       REG32(DMA1_BASE + 0x14u + 0x18u)
#define DMA1_S1PAR        REG32(DMA1_BASE + 0x18u + 0x18u)
#define DMA1_S1M0AR       REG32(DMA1_BASE + 0x1Cu + 0x18u)
#define DMA1_S1FCR        REG32(DMA1_BASE + 0x24u + 0x18u)
#define DMA_LIFCR_STREAM1 (0x3Du << 6)   /* CFEIF1, CDMEIF1, CTEIF1, CHTIF1, CTCIF1 */
#define DMA_SxCR_EN       (1u << 0)
#define DMA_SxCR_CIRC     (1u << 8)
#define DMA_SxCR_MINC     (1u << 10)
#define DMA_SxCR_PL_HIGH  (2u << 16)
#define DMA_SxCR_CHSEL(n) ((uint32_t)(n) << 25)
#define DMA_SxFCR_DIRECT  0u            /* DMDIS = 0: each byte is written as it arrives */
#define USART3_RX_DMA_CHANNEL 4u

/* ---- NVIC ---- */
#define NVIC_ISER(n)      REG32(0xE000E100u + 4u * (n))
#define NVIC_IPR(n)       REG8(0xE000E400u + (n))

/* ---- SysTick, SCB ---- */
#define SYST_CSR          REG32(0xE000E010u)
#define SYST_RVR          REG32(0xE000E014u)
#define SYST_CVR          REG32(0xE000E018u)
#define SYST_CSR_ENABLE   (1u << 0)
#define SYST_CSR_TICKINT  (1u << 1)
#define SYST_CSR_CLKSRC   (1u << 2)

#define SCB_AIRCR         REG32(0xE000ED0Cu)
#define SCB_CCR           REG32(0xE000ED14u)
#define SCB_SHPR3         REG32(0xE000ED20u)   /* [31:24] SysTick priority */
#define SCB_SHCSR         REG32(0xE000ED24u)
#define SCB_CFSR          REG32(0xE000ED28u)
#define SCB_HFSR          REG32(0xE000ED2Cu)
#define SCB_MMFAR         REG32(0xE000ED34u)
#define SCB_BFAR          REG32(0xE000ED38u)
#define SCB_CCSIDR        REG32(0xE000ED80u)
#define SCB_CSSELR        REG32(0xE000ED84u)
#define SCB_ICIALLU       REG32(0xE000EF50u)
#define SCB_DCISW         REG32(0xE000EF60u)
#define AIRCR_SYSRESETREQ (0x05FA0000u | (1u << 2))
#define CCR_DIV_0_TRP     (1u << 4)
#define CCR_DC            (1u << 16)
#define CCR_IC            (1u << 17)
#define SHCSR_MEMFAULTENA (1u << 16)
#define SHCSR_BUSFAULTENA (1u << 17)
#define SHCSR_USGFAULTENA (1u << 18)
#define CCSIDR_SETS(x)    (((x) >> 13) & 0x7FFFu)
#define CCSIDR_WAYS(x)    (((x) >> 3) & 0x3FFu)
#define DCISW_SET_SHIFT   5u    /* 32-byte lines */
#define DCISW_WAY_SHIFT   30u   /* 4 ways */

/* ---- Debug: DEMCR, DWT (the M7's DWT is locked until LAR is written) ---- */
#define DEMCR             REG32(0xE000EDFCu)
#define DEMCR_TRCENA      (1u << 24)
#define DWT_CTRL          REG32(0xE0001000u)
#define DWT_CYCCNT        REG32(0xE0001004u)
#define DWT_LAR           REG32(0xE0001FB0u)
#define DWT_LAR_KEY       0xC5ACCE55u
#define DWT_CTRL_CYCCNTENA (1u << 0)

#define STM32F7_NUM_IRQS  98u

#endif /* HIL_STM32F7_REGS_H */
