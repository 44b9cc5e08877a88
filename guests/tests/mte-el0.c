/*
 * mte-el0: MTE at EL0 (SCTLR_EL1.TCF0/ATA0) and unprivileged accesses from EL1.
 *   EL0 tag-check faults are Data Aborts from a lower EL (EC 0x24, DFSC 0x11); TCF0 async and
 *   asymmetric report in TFSRE0_EL1; PSTATE.TCO at EL0 (MSR, SPSR.TCO on ERET, set on exception
 *   entry and restored on return); IRG/LDG/STG/ST2G/STGP/DC GVA at EL0 with ATA0 = 1 and 0;
 *   LDGM/STGM/STZGM are UNDEFINED at EL0; LDTR/STTR at EL1 are checked under TCF0.
 */
#include "rt.h"

#define U   (USER_BASE + 0x10000)    /* EL0 data: granule 0 tag 2, granule 1 tag 4, rest 2 */

/* ---- EL0 code: only registers, user memory, and SVC ------------------------------------- */
static u64 t_load(u64 p)
{
    u64 v = 0x5a5a;
    __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(p) : "memory");
    return v;
}

static u64 t_store(u64 p)
{
    __asm__ volatile("str %0, [%1]" :: "r"(0xe0e0e0e0e0e0e0e0UL), "r"(p) : "memory");
    return 0x5707e;
}

static u64 t_ldp_cross(u64 p)
{
    u64 a = 0x5a, b = 0x5a;
    __asm__ volatile("ldp %0, %1, [%2]" : "+r"(a), "+r"(b) : "r"(p) : "memory");
    return a ^ b;
}

static u64 t_tco_msr(u64 p)
{
    u64 v = 0, t;
    __asm__ volatile("msr tco, #1\n\tldr %0, [%2]\n\tmrs %1, tco\n\tmsr tco, #0"
                     : "+r"(v), "=r"(t) : "r"(p) : "memory");
    return v ^ t;
}

static u64 t_tco_read(u64 p)
{
    u64 t, v = 0;
    __asm__ volatile("mrs %0, tco" : "=r"(t));
    __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(p) : "memory");
    return t | (v & 0xff);
}

static u64 t_svc_tco(u64 set)
{
    u64 before, after;
    if (set)
        __asm__ volatile("msr tco, #1" ::: "memory");
    __asm__ volatile("mrs %0, tco\n\tsvc #0x55\n\tmrs %1, tco\n\tmsr tco, #0"
                     : "=&r"(before), "=&r"(after) :: "memory");
    return (before >> 24) | (after >> 20);
}

static u64 t_tagops(u64 p)
{
    /* irg (GCR_EL1 applies), stg, ldg, st2g, stgp, dc gva at EL0 */
    u64 t = 0, g1 = 0, g2 = 0;
    __asm__ volatile("irg %0, %3\n\t"
                     "stg %0, [%0]\n\t"
                     "ldg %1, [%3]\n\t"
                     "addg x9, %0, #32, #1\n\t"
                     "st2g x9, [x9]\n\t"
                     "addg x9, %0, #64, #2\n\t"
                     "stgp xzr, xzr, [x9]\n\t"
                     "addg x9, %0, #128, #3\n\t"
                     "dc gva, x9\n\t"
                     "ldg %2, [x9]"
                     : "+&r"(t), "+&r"(g1), "+&r"(g2) : "r"(p) : "x9", "memory");
    return (PTR_TAG(t) << 8) | (PTR_TAG(g1) << 4) | PTR_TAG(g2);
}

static u64 t_undef(u64 which)
{
    u64 v = 0x77;
    switch (which) {
    case 0: __asm__ volatile("ldgm %0, [%1]" : "+r"(v) : "r"(U) : "memory"); break;
    case 1: __asm__ volatile("stgm %0, [%1]" :: "r"(v), "r"(U) : "memory"); break;
    case 2: __asm__ volatile("stzgm %0, [%1]" :: "r"(v), "r"(U) : "memory"); break;
    case 3: __asm__ volatile("mrs %0, gcr_el1" : "+r"(v)); break;
    case 4: __asm__ volatile("msr tfsre0_el1, xzr"); break;
    case 5: __asm__ volatile("mrs %0, rgsr_el1" : "+r"(v)); break;
    }
    return v;
}

/* ---- EL1 side ---------------------------------------------------------------------------- */
static u64 peek(u64 a)
{
    tco_set();
    u64 v = *(volatile u64 *)a;
    tco_clear();
    return v;
}

static void setup(void)
{
    for (u64 off = 0; off < 0x1000; off += 256)
        stgm(U + off, 0x2222222222222222UL);
    stg(WITH_TAG(U + 0x10, 4));
    tco_set();
    for (u64 i = 0; i < 0x100; i += 8)
        *(volatile u64 *)(U + i) = 0x0101010101010101UL * (i / 8 + 1);
    tco_clear();
    write_sysreg(tfsre0_el1, 0);
    write_sysreg(tfsr_el1, 0);
    isb();
}

static void tfsr(void)
{
    __asm__ volatile("dsb nsh\n\tisb" ::: "memory");
    printf("  TFSRE0_EL1=%lx TFSR_EL1=%lx\n", read_sysreg(tfsre0_el1), read_sysreg(tfsr_el1));
    write_sysreg(tfsre0_el1, 0);
    write_sysreg(tfsr_el1, 0);
    isb();
}

static void task(const char *label, u64 (*fn)(u64), u64 arg, u64 spsr)
{
    expect_fault();
    u64 r = run_el0(fn, arg, USER_STACK_TOP, spsr);
    report_fault(label);
    printf("  returned %lx", r);
    tfsr();
}

static void el0_checks(void)
{
    puts("== EL0 accesses under TCF0\n");
    mte_config(TCF_NONE, TCF_SYNC, 1, 1);
    puts("TCF0=1 TCF=0\n");
    task("ldr tag 2 on tag 2", t_load, WITH_TAG(U, 2), 0);
    task("ldr tag 6 on tag 2", t_load, WITH_TAG(U, 6), 0);
    task("str tag 6 on tag 2", t_store, WITH_TAG(U + 8, 6), 0);
    printf("  mem=%016lx\n", peek(U + 8));
    task("ldp crossing g0 (2) -> g1 (4), tag 2", t_ldp_cross, WITH_TAG(U + 8, 2), 0);
    task("upper alias ldr tag 6", t_load, WITH_TAG(UPPER_ALIAS(U), 6), 0);
    task("TCO via MSR at EL0", t_tco_msr, WITH_TAG(U, 6), 0);
    task("SPSR.TCO=1 on entry to EL0", t_tco_read, WITH_TAG(U, 6), 1UL << 25);
    task("svc #0x55 with TCO=0", t_svc_tco, 0, 0);
    printf("  handler saw TCO=%lx, SPSR.TCO=%lx\n", fault.handler_tco, (fault.spsr >> 25) & 1);
    task("svc #0x55 with TCO=1", t_svc_tco, 1, 0);
    printf("  handler saw TCO=%lx, SPSR.TCO=%lx\n", fault.handler_tco, (fault.spsr >> 25) & 1);
    task("untagged alias tag 6", t_load, WITH_TAG(UNTAGGED_ALIAS(U), 6), 0);

    mte_config(TCF_SYNC, TCF_NONE, 1, 1);
    puts("TCF0=0 TCF=1\n");
    task("ldr tag 6 on tag 2", t_load, WITH_TAG(U, 6), 0);

    mte_config(TCF_NONE, TCF_ASYNC, 1, 1);
    puts("TCF0=2\n");
    task("ldr tag 6 on tag 2", t_load, WITH_TAG(U, 6), 0);
    task("str tag 6 on tag 2 (performed)", t_store, WITH_TAG(U + 0x18, 6), 0);
    printf("  mem=%016lx\n", peek(U + 0x18));
    task("upper alias ldr tag 6", t_load, WITH_TAG(UPPER_ALIAS(U), 6), 0);

    mte_config(TCF_NONE, TCF_ASYMM, 1, 1);
    puts("TCF0=3\n");
    task("ldr tag 6 on tag 2", t_load, WITH_TAG(U, 6), 0);
    task("str tag 6 on tag 2", t_store, WITH_TAG(U + 0x20, 6), 0);

    mte_config(TCF_NONE, TCF_SYNC, 1, 0);
    puts("TCF0=1 ATA0=0 (checks need ATA0)\n");
    task("ldr tag 6 on tag 2", t_load, WITH_TAG(U, 6), 0);
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
}

static void el0_tagops(void)
{
    puts("== tag instructions at EL0 (result = irg tag, ldg tag, final ldg tag)\n");
    write_sysreg(gcr_el1, 0x0001);     /* exclude tag 0 */
    write_sysreg(rgsr_el1, (0xace1UL << 8) | 0);
    isb();
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
    task("ATA0=1", t_tagops, U + 0x400, 0);
    printf("  tags at U+0x400: ");
    print_tags(U + 0x400, 12);
    printf("  RGSR_EL1=%lx\n", read_sysreg(rgsr_el1));
    mte_config(TCF_NONE, TCF_NONE, 1, 0);
    task("ATA0=0", t_tagops, U + 0x500, 0);
    printf("  tags at U+0x500: ");
    print_tags(U + 0x500, 12);
    printf("  RGSR_EL1=%lx\n", read_sysreg(rgsr_el1));
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
    write_sysreg(gcr_el1, 0);
    isb();

    puts("== EL1-only MTE instructions and registers at EL0\n");
    static const char *const names[] = { "ldgm", "stgm", "stzgm", "mrs gcr_el1",
                                         "msr tfsre0_el1", "mrs rgsr_el1" };
    for (u64 i = 0; i < 6; i++)
        task(names[i], t_undef, i, 0);
}

static void unpriv(void)
{
    puts("== LDTR/STTR at EL1: checked with TCF0, reported as current-EL aborts\n");
    u64 r;
    static const struct { int tcf, tcf0; } cfg[] = { { 0, 1 }, { 1, 0 }, { 1, 1 } };
    for (int i = 0; i < 3; i++) {
        mte_config(cfg[i].tcf, cfg[i].tcf0, 1, 1);
        printf("TCF=%d TCF0=%d\n", cfg[i].tcf, cfg[i].tcf0);
        r = 0x5a;
        expect_fault();
        __asm__ volatile("ldtr %0, [%1]" : "+r"(r) : "r"(WITH_TAG(U + 0x30, 6)) : "memory");
        report_fault("  ldtr tag 6 on tag 2");
        expect_fault();
        __asm__ volatile("sttrh %w0, [%1]" :: "r"(r), "r"(WITH_TAG(U + 0x32, 6)) : "memory");
        report_fault("  sttrh tag 6 on tag 2");
        expect_fault();
        __asm__ volatile("ldr %0, [%1]" : "+r"(r) : "r"(WITH_TAG(U + 0x30, 6)) : "memory");
        report_fault("  ldr tag 6 on tag 2");
    }
    mte_config(TCF_NONE, TCF_SYNC, 1, 0);
    expect_fault();
    __asm__ volatile("ldtr %0, [%1]" : "+r"(r) : "r"(WITH_TAG(U + 0x30, 6)) : "memory");
    report_fault("TCF0=1 ATA0=0: ldtr tag 6");
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
}

int main(void)
{
    puts("mte-el0: MTE at EL0\n");
    setup();
    el0_checks();
    el0_tagops();
    unpriv();
    puts("mte-el0: done\n");
    return 0;
}
