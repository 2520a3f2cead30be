/*
 * startup.c: the vector table of the mps3-an547 machine (reset and fault
 * entry are shared: port/armv8m).
 *
 * The table sits at 0x0, the start of the ITCM (section .vectors, placed
 * first by mps3.ld): the AN547's initial Secure VTOR, where QEMU's -kernel
 * loader and the core's reset logic look for it.
 */
#include <stdint.h>

#include "armv8m.h"
#include "cmsdk.h"
#include "cmsdk_config.h"

#define MPS3_NUM_IRQS 96

__attribute__((section(".vectors"), used))
const vector_t hal_vector_table[16 + MPS3_NUM_IRQS] = {
    ARMV8M_SYSTEM_VECTORS(hal_fault_entry /* the port runs no SysTick */),
    [16 ... 16 + CMSDK_UART_IRQ - 1] = hal_fault_entry,
    [16 + CMSDK_UART_IRQ] = cmsdk_uart_irq_handler,
    [16 + CMSDK_UART_IRQ + 1 ... 16 + MPS3_NUM_IRQS - 1] = hal_fault_entry,
};
