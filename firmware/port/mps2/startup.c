/*
 * startup.c: vector table, reset and fault entry for the mps2 machines.
 *
 * The table sits at 0x0 (section .vectors, placed first by mps2.ld), which
 * is where QEMU's -kernel loader and the core's reset logic expect it.
 */
#include <stdint.h>
#include <string.h>

#include "hal.h"
#include "mps2_regs.h"

/* Linker script symbols. */
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

int main(void);
void Reset_Handler(void);
void hal_fault_entry(void);
void UART0_RX_IRQHandler(void);

/* Any exception without a handler of its own is reported as a fault. */
#define FAULT_ALIAS __attribute__((alias("hal_fault_entry")))
void NMI_Handler(void) FAULT_ALIAS;
void HardFault_Handler(void) FAULT_ALIAS;
void MemManage_Handler(void) FAULT_ALIAS;
void BusFault_Handler(void) FAULT_ALIAS;
void UsageFault_Handler(void) FAULT_ALIAS;
void SVC_Handler(void) FAULT_ALIAS;
void DebugMon_Handler(void) FAULT_ALIAS;
void PendSV_Handler(void) FAULT_ALIAS;
void SysTick_Handler(void) FAULT_ALIAS;  /* the port runs no SysTick */
void Unexpected_IRQHandler(void) FAULT_ALIAS;

#define MPS2_NUM_IRQS 32

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used))
const vector_t hal_vector_table[16 + MPS2_NUM_IRQS] = {
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
    [16 ... 16 + MPS2_NUM_IRQS - 1] = Unexpected_IRQHandler,
    [16 + 0] = UART0_RX_IRQHandler,
};

__attribute__((noreturn)) void Reset_Handler(void)
{
    /* Word loops, not memcpy: .data and .bss are not set up yet. */
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;)
        *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;

#if defined(__ARM_FP)
    /* The compiler may emit FP instructions anywhere from here on. */
    SCB_CPACR |= CPACR_CP10_CP11;
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
    SCB_VTOR = (uint32_t)(uintptr_t)hal_vector_table;

    main();
    hal_reset();
}

/*
 * Fault entry: stack overflow lands here with MSP inside the guard region,
 * so switch to a stack of our own before running any C. The stacked frame
 * is on MSP or PSP as EXC_RETURN bit 2 says.
 */
__attribute__((aligned(8))) static uint8_t fault_stack[512];
__attribute__((used)) uint8_t *const hal_fault_stack_top = fault_stack + sizeof fault_stack;

__attribute__((noreturn, used)) void hal_fault_report(const uint32_t *frame, uint32_t exc_return);

__attribute__((naked)) void hal_fault_entry(void)
{
    __asm volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
        "ldr r2, =hal_fault_stack_top\n\t"
        "ldr r2, [r2]\n\t"
        "msr msp, r2\n\t"
        "b hal_fault_report\n\t"
        ".ltorg\n\t");
}
