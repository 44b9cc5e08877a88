/*
 * isa-branch-sys: branches, exception-generating instructions, system registers, PSTATE,
 * UNDEFINED encodings, hints/barriers, ERET, address translation (AT), and EL0 basics.
 *
 * Addresses of code are printed as offsets from a label in the same asm block, so the output
 * does not change when unrelated code moves.
 */
#include "rt.h"

/* ---- branches ----------------------------------------------------------------------------- */
static void branches(void)
{
    puts("== b/bl/br/blr/ret\n");
    u64 lr_off, v;
    __asm__ volatile("adr x9, 0f\n\t"
                     "bl 1f\n"
                     "0:\tb 2f\n"
                     "1:\tsub %0, x30, x9\n\t"   /* x30 = return address = label 0 */
                     "ret\n"
                     "2:"
                     : "=&r"(lr_off) :: "x9", "x30");
    printf("bl: x30 - ret_label      %ld\n", (i64)lr_off);
    __asm__ volatile("mov %0, #0\n\t"
                     "adr x9, 1f\n\t"
                     "br x9\n\t"
                     "mov %0, #0xbad\n"
                     "1:\tadd %0, %0, #1\n\t"
                     "adr x10, 2f\n\t"
                     "blr x10\n\t"
                     "add %0, %0, #0x100\n\t"
                     "b 3f\n"
                     "2:\tadd %0, %0, #0x10\n\t"
                     "mov x11, x30\n\t"
                     "ret x11\n"
                     "3:"
                     : "=&r"(v) :: "x9", "x10", "x11", "x30");
    printf("br/blr/ret x11 path      %lx\n", v);
    /* backward branch loop with a bound */
    __asm__ volatile("mov %0, #0\n\tmov x9, #10\n"
                     "1:\tadd %0, %0, x9\n\tsubs x9, x9, #1\n\tb.ne 1b"
                     : "=&r"(v) :: "x9", "cc");
    printf("loop sum 10..1           %ld\n", (i64)v);

    puts("== cbz/cbnz/tbz/tbnz (bit set = taken)\n");
    static const u64 vals[] = { 0, 1, 0x8000000000000000UL, 0x100000000UL, 0xffffffff00000000UL };
    for (int i = 0; i < 5; i++) {
        u64 x = vals[i], m = 0;
        __asm__ volatile("cbz %[x], 1f\n\tb 2f\n1:\torr %[m], %[m], #1\n2:\t"
                         "cbnz %[x], 1f\n\tb 2f\n1:\torr %[m], %[m], #2\n2:\t"
                         "cbz %w[x], 1f\n\tb 2f\n1:\torr %[m], %[m], #4\n2:\t"
                         "cbnz %w[x], 1f\n\tb 2f\n1:\torr %[m], %[m], #8\n2:\t"
                         "tbz %[x], #63, 1f\n\tb 2f\n1:\torr %[m], %[m], #0x10\n2:\t"
                         "tbnz %[x], #63, 1f\n\tb 2f\n1:\torr %[m], %[m], #0x20\n2:\t"
                         "tbz %[x], #0, 1f\n\tb 2f\n1:\torr %[m], %[m], #0x40\n2:\t"
                         "tbnz %[x], #32, 1f\n\tb 2f\n1:\torr %[m], %[m], #0x80\n2:\t"
                         "tbnz %w[x], #31, 1f\n\tb 2f\n1:\torr %[m], %[m], #0x100\n2:"
                         : [m] "+r"(m) : [x] "r"(x));
        printf("x=%016lx taken=%03lx\n", x, m);
    }
}

#define BC(c, n) "b." c " 1f\n\tb 2f\n1:\torr %[m], %[m], #(1 << " #n ")\n2:\t"
static void bcond(void)
{
    puts("== b.cond: mask of taken branches per NZCV (bit n = cond n; 14 = al, 15 = nv)\n");
    for (u64 nzcv = 0; nzcv < 16; nzcv++) {
        u64 m = 0;
        __asm__ volatile("msr nzcv, %[f]\n\t"
                         BC("eq", 0) BC("ne", 1) BC("cs", 2) BC("cc", 3) BC("mi", 4) BC("pl", 5)
                         BC("vs", 6) BC("vc", 7) BC("hi", 8) BC("ls", 9) BC("ge", 10) BC("lt", 11)
                         BC("gt", 12) BC("le", 13) BC("al", 14)
                         ".inst 0x54000000 | (2 << 5) | 0xf\n\tb 2f\n\t"   /* b.nv 1f: behaves as always */
                         "orr %[m], %[m], #(1 << 15)\n2:"
                         : [m] "+r"(m) : [f] "r"(nzcv << 28) : "cc");
        printf("nzcv=%x taken=%04lx\n", (u32)nzcv, m);
    }
}

/* ---- exception-generating instructions ------------------------------------------------------ */
static void report_at(const char *what, u64 label)
{
    report_fault(what);
    if (fault.taken)
        printf("  ELR - insn = %ld\n", (i64)(fault.elr - label));
}

static void exceptions(void)
{
    puts("== svc/hvc/brk/hlt/smc at EL1\n");
    u64 at, r;
    expect_fault();
    __asm__ volatile("adr %0, 1f\n1:\tsvc #0x1234" : "=r"(at) :: "memory");
    report_at("svc #0x1234", at);
    expect_fault();
    __asm__ volatile("adr %0, 1f\n1:\tbrk #0x42" : "=r"(at) :: "memory");
    report_at("brk #0x42", at);
    expect_fault();
    __asm__ volatile("adr %0, 1f\n1:\tbrk #0xffff" : "=r"(at) :: "memory");
    report_at("brk #0xffff", at);
    expect_fault();
    __asm__ volatile("adr %0, 1f\n1:\thlt #0x1" : "=r"(at) :: "memory");
    report_at("hlt #1 (not semihosting)", at);
    expect_fault();
    __asm__ volatile("adr %0, 1f\n1:\tsmc #0" : "=r"(at) :: "memory");
    report_at("smc #0 (no EL3)", at);

    puts("== hvc: PSCI and SMCCC\n");
    printf("PSCI_VERSION             %lx\n", hvc_call(0x84000000UL, 0, 0, 0));
    expect_fault();
    r = hvc_call(0x83000000UL, 1, 2, 3);
    report_fault("hvc OEM fn 0x83000000");
    printf("  x0 = %lx (NOT_SUPPORTED = -1)\n", r);
    expect_fault();
    __asm__ volatile("mov x0, #0x84000000\n\thvc #1\n\tmov %0, x0" : "=r"(r) :: "x0", "x1", "x2", "x3", "memory");
    report_fault("hvc #1 PSCI_VERSION");
    printf("  x0 = %lx\n", r);
}

/* ---- UNDEFINED ------------------------------------------------------------------------------ */
#define UNDEF(label, insn)                                                                   \
    do {                                                                                     \
        u64 _at;                                                                             \
        expect_fault();                                                                      \
        __asm__ volatile("adr %0, 1f\n1:\t" insn : "=r"(_at) :: "x0", "memory");             \
        report_at(label, _at);                                                               \
    } while (0)

static void undefined(void)
{
    puts("== UNDEFINED and trapped encodings\n");
    UNDEF("udf #0 (.inst 0)", ".inst 0x00000000");
    UNDEF("udf #0x1234", "udf #0x1234");
    UNDEF(".inst 0xffffffff", ".inst 0xffffffff");
    UNDEF("mrs hcr_el2 (no EL2)", "mrs x0, hcr_el2");
    UNDEF("msr midr_el1 (RO)", "msr s3_0_c0_c0_0, x0");
    UNDEF("mrs s3_1_c11_c0_7", "mrs x0, s3_1_c11_c0_7");
    /* No FP/SIMD encodings here: QEMU -cpu max implements FP (with CPACR_EL1.FPEN = 0 they
     * trap with EC 0x07), while Tagvisor reports no FP in ID_AA64PFR0_EL1 and makes them
     * UNDEFINED, as the architecture requires of a PE without FP. Both are architecturally
     * correct for their CPU; Tagvisor's behaviour is covered by its own unit tests. */
}

/* ---- hints, barriers, cache/TLB maintenance: all no-ops here ------------------------------ */
static void hints(void)
{
    puts("== hints / barriers / maintenance (must be no-ops)\n");
    u64 v = 1;
    __asm__ volatile("nop\n\tyield\n\tsev\n\tsevl\n\twfe\n\t"   /* event register set: no wait */
                     "dmb ish\n\tdmb oshld\n\tdsb sy\n\tdsb nshst\n\tisb\n\tsb\n\tcsdb\n\t"
                     "ssbb\n\tpssbb\n\tesb\n\thint #17\n\thint #18\n\t"
                     "hint #34\n\thint #6\n\thint #0x7f\n\tclrex #5\n\t"
                     "dc civac, %1\n\tdc cvac, %1\n\tdc cvau, %1\n\tdc cvap, %1\n\tdc ivac, %1\n\t"
                     "ic iallu\n\tic ialluis\n\tic ivau, %1\n\t"
                     "tlbi vmalle1\n\ttlbi vmalle1is\n\ttlbi vae1, xzr\n\ttlbi aside1, xzr\n\t"
                     "tlbi vaae1is, xzr\n\tdsb ish\n\tisb\n\t"
                     "add %0, %0, #1"
                     : "+r"(v) : "r"(TEST_BASE + 0x800) : "memory");
    printf("fell through             %lu\n", v);
}

/* ---- system registers ----------------------------------------------------------------------- */
#define RW(name, val)                                                                         \
    do {                                                                                      \
        write_sysreg(name, val);                                                              \
        isb();                                                                                \
        printf("%-16s wrote %016lx read %016lx\n", #name, (u64)(val), read_sysreg(name));    \
    } while (0)

static void sysregs(void)
{
    puts("== MRS/MSR of EL1/EL0 registers\n");
    RW(tpidr_el0, 0x0123456789abcdefUL);
    RW(tpidr_el1, 0xfedcba9876543210UL);
    RW(tpidrro_el0, 0x5555aaaa5555aaaaUL);
    RW(contextidr_el1, 0x00000000fedcba98UL);   /* bits 63:32 RES0: not written */
    RW(sp_el0, 0x4020fff8UL);
    RW(elr_el1, 0x40080123UL);
    RW(far_el1, 0xdeadbeefcafe0000UL);
    RW(esr_el1, 0x96000011UL);
    RW(mdscr_el1, 0);
    write_sysreg(spsr_el1, 0xffffffffUL);
    printf("spsr_el1         wrote 00000000ffffffff read (masked) %08lx\n",
           read_sysreg(spsr_el1) & SPSR_PRINT_MASK);
    write_sysreg(spsr_el1, 0x600003c5UL);
    printf("spsr_el1         wrote 00000000600003c5 read %016lx\n", read_sysreg(spsr_el1));
    u64 v;
    __asm__ volatile("mrs x9, vbar_el1\n\t"
                     "msr vbar_el1, %1\n\tisb\n\t"
                     "mrs %0, vbar_el1\n\t"
                     "msr vbar_el1, x9\n\tisb"
                     : "=&r"(v) : "r"(0x40001800UL) : "x9", "memory");
    printf("vbar_el1         wrote 0000000040001800 read %016lx\n", v);
    printf("currentel        %lx\n", read_sysreg(CurrentEL));
    v = read_sysreg(sctlr_el1);
    printf("sctlr_el1        %016lx (runtime wrote %016lx)\n", v, SCTLR_BASE | SCTLR_ATA | SCTLR_ATA0);
    printf("tcr_el1          %016lx\n", read_sysreg(tcr_el1));
    printf("mair_el1         %016lx\n", read_sysreg(mair_el1));
    printf("gcr_el1          %016lx\n", read_sysreg(gcr_el1));

    puts("== PSTATE fields\n");
    u64 a, b, c, d;
    __asm__ volatile("mrs %0, daif\n\tmsr daifclr, #0xf\n\tmrs %1, daif\n\t"
                     "msr daifset, #0x5\n\tmrs %2, daif\n\tmsr daif, %4\n\tmrs %3, daif\n\t"
                     "msr daifset, #0xf"
                     : "=&r"(a), "=&r"(b), "=&r"(c), "=&r"(d) : "r"(0x140UL));
    printf("daif: boot %lx, clr all %lx, set D|I %lx, write 0x140 %lx\n", a, b, c, d);
    __asm__ volatile("msr nzcv, %4\n\tmrs %0, nzcv\n\tmsr nzcv, xzr\n\tmrs %1, nzcv\n\t"
                     "mov w9, #0\n\tcmp w9, #1\n\tmrs %2, nzcv\n\tmsr nzcv, %5\n\tmrs %3, nzcv"
                     : "=&r"(a), "=&r"(b), "=&r"(c), "=&r"(d)
                     : "r"(0xffffffffffffffffUL), "r"(0x50000000UL) : "x9", "cc");
    printf("nzcv: write ~0 %lx, 0 %lx, cmp 0,1 %lx, write 0x5<<28 %lx\n", a, b, c, d);
    __asm__ volatile("mrs %0, spsel\n\tmsr spsel, #0\n\tmrs %1, spsel\n\tmov %2, sp\n\t"
                     "msr spsel, #1\n\tmrs %3, spsel"
                     : "=&r"(a), "=&r"(b), "=&r"(c), "=&r"(d));
    printf("spsel: %lx -> %lx (sp = sp_el0 = %lx) -> %lx\n", a, b, c, d);
    write_sysreg(sp_el0, 0);
    __asm__ volatile("mrs %0, pan\n\tmsr pan, #1\n\tmrs %1, pan\n\tmsr pan, #0\n\t"
                     "mrs %2, uao\n\tmsr uao, #1\n\tmrs %3, uao\n\tmsr uao, #0"
                     : "=&r"(a), "=&r"(b), "=&r"(c), "=&r"(d));
    printf("pan %lx -> %lx, uao %lx -> %lx\n", a, b, c, d);
    __asm__ volatile("mrs %0, dit\n\tmsr dit, #1\n\tmrs %1, dit\n\tmsr dit, #0\n\t"
                     "mrs %2, tco\n\tmsr tco, #1\n\tmrs %3, tco\n\tmsr tco, #0"
                     : "=&r"(a), "=&r"(b), "=&r"(c), "=&r"(d));
    printf("dit %lx -> %lx, tco %lx -> %lx\n", a, b, c, d);

    /* PAN: privileged access to EL0-accessible memory faults; LDTR does not. */
    volatile u64 *user = (u64 *)(USER_BASE + 0x2000);
    *user = 0x600d;
    v = 0;
    __asm__ volatile("msr pan, #1" ::: "memory");
    expect_fault();
    __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(user) : "memory");
    __asm__ volatile("msr pan, #0" ::: "memory");
    report_fault("PAN=1: ldr user page");
    __asm__ volatile("msr pan, #1\n\tldtr %0, [%1]\n\tmsr pan, #0" : "=r"(v) : "r"(user) : "memory");
    printf("PAN=1: ldtr user page    %lx\n", v);
}

/* ---- address translation -------------------------------------------------------------------- */
#define AT(label, op, addr)                                                                    \
    do {                                                                                       \
        u64 _par;                                                                              \
        __asm__ volatile("at " op ", %1\n\tisb\n\tmrs %0, par_el1" : "=r"(_par) : "r"((u64)(addr))); \
        printf("%-28s PAR=%016lx\n", label, _par);                                             \
    } while (0)

static void at_ops(void)
{
    puts("== AT S1E1R/W, S1E0R/W -> PAR_EL1\n");
    AT("s1e1r tagged 0x40400123", "s1e1r", TEST_BASE + 0x123);
    AT("s1e1w tagged (tag 5 in VA)", "s1e1w", WITH_TAG(TEST_BASE + 0x10, 5));
    AT("s1e1r untagged page", "s1e1r", TEST_UNTAGGED_PG);
    AT("s1e1r untagged alias", "s1e1r", UNTAGGED_ALIAS(TEST_BASE));
    AT("s1e1r upper half alias", "s1e1r", UPPER_ALIAS(TEST_BASE + 0x40));
    AT("s1e1r uart", "s1e1r", UART0_BASE);
    AT("s1e1r unmapped page", "s1e1r", TEST_UNMAPPED_PG);
    AT("s1e1w read-only page", "s1e1w", TEST_RO_PG);
    AT("s1e0r EL1-only page", "s1e0r", TEST_BASE);
    AT("s1e0w user block", "s1e0w", USER_BASE + 0x10);
    AT("s1e1r beyond VA range", "s1e1r", 0x0000008000000000UL);
}

/* ---- ERET with crafted SPSR ----------------------------------------------------------------- */
static void erets(void)
{
    puts("== ERET to EL1 with a crafted SPSR\n");
    u64 nzcv, daif, spsel, tco;
    __asm__ volatile("adr x9, 1f\n\tmsr elr_el1, x9\n\tmsr spsr_el1, %4\n\teret\n"
                     "1:\tmrs %0, nzcv\n\tmrs %1, daif\n\tmrs %2, spsel\n\tmrs %3, tco\n\t"
                     "msr daifset, #0xf\n\tmsr tco, #0"
                     : "=&r"(nzcv), "=&r"(daif), "=&r"(spsel), "=&r"(tco)
                     : "r"(0xa2000185UL) /* N C, TCO, A I, EL1h */ : "x9", "cc", "memory");
    printf("EL1h: nzcv=%lx daif=%lx spsel=%lx tco=%lx\n", nzcv, daif, spsel, tco);
    write_sysreg(sp_el0, USER_STACK_TOP - 0x100);
    __asm__ volatile("adr x9, 1f\n\tmsr elr_el1, x9\n\tmsr spsr_el1, %4\n\teret\n"
                     "1:\tmrs %0, nzcv\n\tmrs %1, daif\n\tmrs %2, spsel\n\tmov %3, sp\n\t"
                     "msr spsel, #1\n\tmsr daifset, #0xf"
                     : "=&r"(nzcv), "=&r"(daif), "=&r"(spsel), "=&r"(tco)
                     : "r"(0x500003c4UL) /* Z V, DAIF, EL1t */ : "x9", "cc", "memory");
    printf("EL1t: nzcv=%lx daif=%lx spsel=%lx sp=%lx\n", nzcv, daif, spsel, tco);
    write_sysreg(sp_el0, 0);
}

/* ---- EL0 ------------------------------------------------------------------------------------ */
static u64 el0_svc_putc(int c)
{
    register u64 x0 __asm__("x0") = (u64)c;
    __asm__ volatile("svc #1" : "+r"(x0) :: "memory");
    return x0;
}

static u64 task_basic(u64 arg)
{
    const char *s = "hello from EL0\n";   /* rodata: readable at EL0 */
    for (int i = 0; s[i]; i++)
        el0_svc_putc(s[i]);
    u64 nzcv, ro;
    __asm__ volatile("mrs %0, nzcv" : "=r"(nzcv));
    __asm__ volatile("mrs %0, tpidrro_el0" : "=r"(ro));
    return arg * 3 + (nzcv >> 28) + ro;
}

static u64 task_faults(u64 arg)
{
    u64 v = 0;
    (void)arg;
    /* each of these faults into EL1; the armed handler skips the instruction */
    switch (arg) {
    case 0: __asm__ volatile("mrs %0, tpidr_el1" : "+r"(v)); break;      /* UNDEF at EL0 */
    case 1: __asm__ volatile("msr tpidrro_el0, %0" :: "r"(v)); break;    /* UNDEF at EL0 */
    case 2: __asm__ volatile("msr daifset, #2"); break;                  /* UMA = 0: trap */
    case 3: __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(TEST_BASE) : "memory"); break;
    case 4: __asm__ volatile("str %0, [%1]" :: "r"(v), "r"(0x40080000UL) : "memory"); break;
    case 5: __asm__ volatile("svc #0x77"); break;
    case 6: __asm__ volatile("brk #7"); break;
    case 7: __asm__ volatile("blr %0" :: "r"(USER_BASE + 0x100) : "x30", "memory"); break; /* XN */
    case 8: __asm__ volatile("adr x9, 1f\n\tadd x9, x9, #2\n\tblr x9\n1:" ::: "x9", "x30", "memory");
        break;                                                            /* PC alignment */
    /* (No SP alignment fault test: QEMU does not implement SCTLR_EL1.SA/SA0 checks.) */
    case 9: __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(USER_BASE + 0x200000) : "memory"); break;
    case 10: __asm__ volatile("mrs %0, CurrentEL" : "+r"(v)); break;       /* UNDEF at EL0 */
    case 11: __asm__ volatile("hvc #0"); break;                          /* UNDEF at EL0 */
    case 12: __asm__ volatile("dc ivac, %0" :: "r"(USER_BASE) : "memory"); break; /* trapped? */
    case 13: __asm__ volatile("mrs %0, ctr_el0\n\tmov %0, #1" : "+r"(v)); break;  /* UCT = 1 */
    }
    return v + 0x100;
}

static const char *const task_names[] = {
    "mrs tpidr_el1", "msr tpidrro_el0", "msr daifset (UMA=0)", "ldr EL1-only page",
    "str text page", "svc #0x77", "brk #7", "blr to XN page", "blr misaligned",
    "ldr just past user block", "mrs CurrentEL", "hvc #0", "dc ivac", "mrs ctr_el0 (allowed)",
};

static void el0(void)
{
    puts("== EL0 tasks\n");
    write_sysreg(tpidrro_el0, 0x1000);
    u64 r = run_el0(task_basic, 7, USER_STACK_TOP, 0x60000000UL);   /* Z C */
    printf("task_basic(7) = %lx\n", r);
    for (u64 i = 0; i < sizeof(task_names) / sizeof(task_names[0]); i++) {
        expect_fault();
        r = run_el0(task_faults, i, USER_STACK_TOP, 0);
        report_fault(task_names[i]);
        printf("  returned %lx\n", r);
    }
    write_sysreg(tpidrro_el0, 0);
}

int main(void)
{
    puts("isa-branch-sys: branches, exceptions, system registers\n");
    branches();
    bcond();
    exceptions();
    undefined();
    hints();
    sysregs();
    at_ops();
    erets();
    el0();
    puts("isa-branch-sys: done\n");
    return 0;
}
