/*
 * Reset code of the s8 kernel driver on QEMU mps2/mps3 machines: enable
 * the FPU and Helium where present (CPACR CP10/CP11), set up memory and
 * semihosting, run main, exit with its status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_top__;
extern int main(void);
extern void initialise_monitor_handles(void);

void reset_handler(void);
void _init(void);
void _fini(void);

void _init(void)
{
}

void _fini(void)
{
}

static void fault_handler(void)
{
    exit(99);
}

__attribute__((section(".vectors"), used)) static const void *const vectors[] = {
    &__stack_top__, (const void *)reset_handler, (const void *)fault_handler,
    (const void *)fault_handler, (const void *)fault_handler, (const void *)fault_handler,
    (const void *)fault_handler,
};

void reset_handler(void)
{
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
    memcpy(&__data_start__, &__data_load__, (size_t)((char *)&__data_end__ - (char *)&__data_start__));
    memset(&__bss_start__, 0, (size_t)((char *)&__bss_end__ - (char *)&__bss_start__));
    initialise_monitor_handles();
    exit(main());
}
