/*
 * armv7m_stack_guard.c: the no-access MPU region below the stack, shared by
 * every Armv7-M port. A stack overflow into it raises MemManage (reported as
 * a stack overflow) instead of silently corrupting .bss. The region is
 * __stack_guard_start..__stack_guard_end from the port's linker script,
 * a power of two in size and aligned to it. Register addresses are
 * architectural (Armv7-M ARM, B3.5 Protected Memory System Architecture).
 */
#include <stdint.h>

#include "armv7m.h"

#define MPU_REG32(addr) (*(volatile uint32_t *)(addr))
#define MPU_TYPE MPU_REG32(0xE000ED90u)
#define MPU_CTRL MPU_REG32(0xE000ED94u)
#define MPU_RNR  MPU_REG32(0xE000ED98u)
#define MPU_RBAR MPU_REG32(0xE000ED9Cu)
#define MPU_RASR MPU_REG32(0xE000EDA0u)
#define MPU_CTRL_ENABLE     (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2)   /* the default map everywhere else */
#define RASR_XN             (1u << 28)
#define RASR_AP_NONE        (0u << 24)

extern uint32_t __stack_guard_start, __stack_guard_end;

void armv7m_stack_guard_init(void)
{
    if (((MPU_TYPE >> 8) & 0xFFu) == 0)
        return;   /* no MPU regions */
    uint32_t base = (uint32_t)(uintptr_t)&__stack_guard_start;
    uint32_t size = (uint32_t)((uintptr_t)&__stack_guard_end - (uintptr_t)&__stack_guard_start);
    uint32_t size_field = 31u - (uint32_t)__builtin_clz(size) - 1u;  /* 2^(field+1) bytes */
    MPU_RNR = 0;
    MPU_RBAR = base;
    MPU_RASR = RASR_XN | RASR_AP_NONE | (size_field << 1) | 1u;
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    __asm volatile("dsb\n\tisb" ::: "memory");
}
