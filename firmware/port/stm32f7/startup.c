/*
 * startup.c: vector table, reset and fault entry for the STM32F74x.
 *
 * The table sits at 0x08000000 (section .vectors, first in FLASH). With
 * BOOT0 low the core boots from BOOT_ADD0 = 0x0020_0000, the same flash
 * seen through the ITCM interface (RM0385, "Boot configuration"); VTOR is
 * then pointed at the AXIM address the image is linked for.
 */
#include <stdint.h>

#include "hal.h"
#include "stm32f7_port.h"
#include "stm32f7_regs.h"

/* Linker script symbols. */
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

int main(void);
void Reset_Handler(void);
void hal_fault_entry(void);
void SysTick_Handler(void);

/* Any exception without a handler of its own is reported as a fault. */

#define NMI_Handler hal_fault_entry
#define HardFault_Handler hal_fault_entry
#define MemManage_Handler hal_fault_entry
#define BusFault_Handler hal_fault_entry
#define UsageFault_Handler hal_fault_entry
#define SVC_Handler hal_fault_entry
#define DebugMon_Handler hal_fault_entry
#define PendSV_Handler hal_fault_entry
#define Unexpected_IRQHandler hal_fault_entry

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used))
const vector_t hal_vector_table[16 + STM32F7_NUM_IRQS] = {
    (vector_t)(uintptr_t)&_estack,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
    [16 ... 16 + USART3_IRQn - 1] = Unexpected_IRQHandler,
    [16 + USART3_IRQn] = USART3_IRQHandler,
    [16 + USART3_IRQn + 1 ... 16 + STM32F7_NUM_IRQS - 1] = Unexpected_IRQHandler,
};

__attribute__((noreturn)) void Reset_Handler(void)
{
#if defined(__ARM_FP)
    /* The compiler may emit FP instructions anywhere from here on. */
    SCB_CPACR |= CPACR_CP10_CP11;
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
    SCB_VTOR = (uint32_t)(uintptr_t)hal_vector_table;

    /* Word loops, not memcpy: .data and .bss are not set up yet. */
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;)
        *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;

    main();
    hal_reset();
}
