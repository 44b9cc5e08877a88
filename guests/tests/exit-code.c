/*
 * exit-code: a planned non-zero exit. Prints a line, writes one to the semihosting console
 * (QEMU sends that to stderr, which the differential tests ignore), and exits with status 42
 * through semihosting SYS_EXIT (0x18) with ADP_Stopped_ApplicationExit and subcode 42.
 */
#include "rt.h"

u64 semihost(u64 op, u64 arg);

int main(void)
{
    puts("exit-code: exiting with status 42 via SYS_EXIT\n");
    semihost_write0("exit-code: semihosting SYS_WRITE0\n");
    semihost_writec('!');
    semihost_writec('\n');
    volatile u64 block[2] = { 0x20026, 42 };
    semihost(0x18, (u64)block);
    puts("exit-code: SYS_EXIT returned?!\n");
    return 1;
}
