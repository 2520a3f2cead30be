/*
 * startup.c: the vector table of the mps2 machines (reset and fault entry
 * are shared: port/armv7m).
 *
 * The table sits at 0x0 (section .vectors, placed first by mps2.ld), which
 * is where QEMU's -kernel loader and the core's reset logic expect it.
 */
#include <stdint.h>

#include "armv7m.h"
#include "cmsdk.h"
#include "cmsdk_config.h"

#define MPS2_NUM_IRQS 32

__attribute__((section(".vectors"), used))
const vector_t hal_vector_table[16 + MPS2_NUM_IRQS] = {
    ARMV7M_SYSTEM_VECTORS(hal_fault_entry /* the port runs no SysTick */),
    [16 + CMSDK_UART_IRQ] = cmsdk_uart_irq_handler,
    [16 + 1 ... 16 + MPS2_NUM_IRQS - 1] = hal_fault_entry,
};
_Static_assert(CMSDK_UART_IRQ == 0, "the table gives the UART IRQ 0, hal_fault_entry the rest");
