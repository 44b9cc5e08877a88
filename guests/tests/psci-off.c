/*
 * psci-off: PSCI over HVC. Prints PSCI_VERSION and the answer to an unknown SMCCC function,
 * then powers off with SYSTEM_OFF (exit status 0, no semihosting involved).
 */
#include "rt.h"

int main(void)
{
    printf("psci-off: PSCI_VERSION = %lx\n", hvc_call(0x84000000UL, 0, 0, 0));
    printf("psci-off: unknown function 0x8400ff00 -> %lx\n", hvc_call(0x8400ff00UL, 0, 0, 0));
    puts("psci-off: SYSTEM_OFF\n");
    psci_off();
}
