/*
 * mte-off-nomte: a VM without MTE (QEMU -M virt,mte=off; tagvisor --mte off). Guests whose name
 * ends in "-nomte" run that way. ID_AA64PFR1_EL1.MTE reads 0, every MTE instruction and system
 * register is UNDEFINED, and tagged pointers still work through top-byte-ignore with no check.
 */
#include "rt.h"

#define TRY(label, insn)                                                                     \
    do {                                                                                     \
        expect_fault();                                                                      \
        __asm__ volatile("mov x1, %0\n\t" insn :: "r"(TEST_BASE) : "x0", "x1", "memory");    \
        report_fault(label);                                                                 \
    } while (0)

int main(void)
{
    u64 pfr1 = read_sysreg(id_aa64pfr1_el1);
    printf("mte-off-nomte: ID_AA64PFR1_EL1.MTE = %lu, rt_have_mte = %u\n", (pfr1 >> 8) & 0xf, rt_have_mte);
    TRY("irg", "irg x0, x1");
    TRY("addg", "addg x0, x1, #16, #1");
    TRY("gmi", "gmi x0, x1, xzr");
    TRY("subp", "subp x0, x1, x1");
    TRY("stg", "stg x1, [x1]");
    TRY("stzg", "stzg x1, [x1]");
    TRY("st2g", "st2g x1, [x1]");
    TRY("stgp", "stgp xzr, xzr, [x1]");
    TRY("ldg", "ldg x0, [x1]");
    TRY("ldgm", "ldgm x0, [x1]");
    TRY("stgm", "stgm xzr, [x1]");
    TRY("stzgm", "stzgm xzr, [x1]");
    TRY("dc gva", "dc gva, x1");
    TRY("dc gzva", "dc gzva, x1");
    TRY("msr tco, #1", "msr tco, #1");
    TRY("mrs tco", "mrs x0, tco");
    TRY("mrs gcr_el1", "mrs x0, gcr_el1");
    TRY("msr rgsr_el1", "msr rgsr_el1, xzr");
    TRY("mrs tfsr_el1", "mrs x0, tfsr_el1");
    TRY("mrs gmid_el1", "mrs x0, gmid_el1");

    /* A pointer with a tag in the top byte is just an address (TBI), never checked. */
    volatile u64 *plain = (volatile u64 *)(TEST_BASE + 0x100);
    volatile u64 *tagged = (volatile u64 *)((TEST_BASE + 0x100) | (0xaUL << 56));
    *plain = 0x1122334455667788UL;
    expect_fault();
    u64 seen = *tagged;
    *tagged = seen + 1;
    report_fault("load/store through tag 0xa");
    printf("value through tagged pointer %016lx, now %016lx\n", seen, *plain);
    return 0;
}
