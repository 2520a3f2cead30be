/*
 * startup.c: the vector table of the STM32F74x (reset and fault entry are
 * shared: port/armv7m).
 *
 * The table sits at 0x08000000 (section .vectors, first in FLASH). With
 * BOOT0 low the core boots from BOOT_ADD0 = 0x0020_0000, the same flash
 * seen through the ITCM interface (RM0385, "Boot configuration"); VTOR is
 * then pointed at the AXIM address the image is linked for.
 */

#include <stdint.h>

#include "armv7m.h"
#include "stm32f7_port.h"
#include "stm32f7_regs.h"

void SysTick_Handler(void);

__attribute__((section(".vectors"), used))
const vector_t hal_vector_table[16 + STM32F7_NUM_IRQS] = {
    ARMV7M_SYSTEM_VECTORS(SysTick_Handler),
    [16 ... 16 + USART3_IRQn - 1] = hal_fault_entry,
    [16 + USART3_IRQn] = USART3_IRQHandler,
    [16 + USART3_IRQn + 1 ... 16 + STM32F7_NUM_IRQS - 1] = hal_fault_entry,
};
