/*
 * armv8m_fault.c: fault entry shared by every Armv8-M Mainline port.
 *
 * Each board port's vector table points its fault vectors at
 * hal_fault_entry. A stack overflow arrives here with MSP at MSPLIM, and the
 * handler's own stack (in .bss) lies below that limit, so the entry clears
 * MSPLIM before it switches to that stack and before any C runs. The stacked
 * frame is on MSP or PSP as EXC_RETURN bit 2 says. Register addresses are
 * architectural (Armv8-M ARM, D1.2 System Control Space); CFSR, HFSR, MMFAR
 * and BFAR sit where Armv7-M has them.
 */
#include <stdint.h>

#include "armv8m.h"
#include "hal.h"

#define FAULT_REG32(addr) (*(volatile uint32_t *)(addr))
#define SCS_CFSR  FAULT_REG32(0xE000ED28u)
#define SCS_HFSR  FAULT_REG32(0xE000ED2Cu)
#define SCS_MMFAR FAULT_REG32(0xE000ED34u)
#define SCS_BFAR  FAULT_REG32(0xE000ED38u)

__attribute__((aligned(8))) static uint8_t fault_stack[512];
__attribute__((used)) uint8_t *const hal_fault_stack_top = fault_stack + sizeof fault_stack;

__attribute__((noreturn, used)) void hal_fault_report(const uint32_t *frame, uint32_t exc_return);
void hal_fault_entry(void);

__attribute__((naked)) void hal_fault_entry(void)
{
    __asm volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
        "movs r2, #0\n\t"
        "msr msplim, r2\n\t"
        "ldr r2, =hal_fault_stack_top\n\t"
        "ldr r2, [r2]\n\t"
        "msr msp, r2\n\t"
        "isb\n\t"
        "b hal_fault_report\n\t"
        ".ltorg\n\t");
}

__attribute__((noreturn, used)) void hal_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    struct hal_fault fault = {
        .r0 = frame[0], .r1 = frame[1], .r2 = frame[2], .r3 = frame[3],
        .r12 = frame[4], .lr = frame[5], .pc = frame[6], .xpsr = frame[7],
        .cfsr = SCS_CFSR, .hfsr = SCS_HFSR, .mmfar = SCS_MMFAR, .bfar = SCS_BFAR,
        .exc_return = exc_return,
    };
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1FFu;
    fault.cause = hal_port_watchdog_exception != 0 && ipsr == hal_port_watchdog_exception
                      ? HAL_FAULT_WATCHDOG : HAL_FAULT_CPU;
    hil_on_fault(&fault);
}
