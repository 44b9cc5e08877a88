/*
 * mte-tagops: MTE register-only instructions and ID values.
 *   ID_AA64PFR1_EL1.MTE, GMID_EL1; IRG with seeds and excludes (GCR_EL1.Exclude | Xm) and the
 *   RGSR_EL1 write-back; GMI; ADDG/SUBG (tag wrap, excludes, address carry); SUBP/SUBPS/CMPP;
 *   and the same with SCTLR_EL1.ATA = 0 (IRG/ADDG/SUBG produce tag 0).
 * GCR_EL1.RRND is always 0: IRG uses the deterministic LFSR over RGSR_EL1.SEED.
 */
#include "rt.h"

static void id_regs(void)
{
    puts("== ID\n");
    printf("ID_AA64PFR1_EL1.MTE = %lu\n", (read_sysreg(id_aa64pfr1_el1) >> 8) & 0xF);
    printf("GMID_EL1 = %lx\n", read_sysreg(gmid_el1));
}

static void set_gcr(u64 v)
{
    write_sysreg(gcr_el1, v);
    isb();
}

static void set_rgsr(u64 seed, u64 tag)
{
    write_sysreg(rgsr_el1, (seed << 8) | tag);
    isb();
}

/* n IRGs from the current RGSR; print the tags as hex digits and RGSR afterwards */
static void irg_seq(const char *label, int n, u64 xm)
{
    printf("%-36s", label);
    for (int i = 0; i < n; i++)
        putc("0123456789abcdef"[PTR_TAG(irg(TEST_BASE, xm))]);
    printf(" RGSR=%06lx\n", read_sysreg(rgsr_el1));
}

static void irg_tests(void)
{
    puts("== IRG (GCR_EL1.RRND = 0), 16 tags per line\n");
    set_gcr(0);
    set_rgsr(0, 0);
    irg_seq("seed 0 tag 0 (offset always 0)", 16, 0);
    set_rgsr(0, 9);
    irg_seq("seed 0 tag 9", 16, 0);
    static const u64 seeds[] = { 0x0001, 0x0002, 0xace1, 0xffff, 0x8000, 0x1234, 0x5555 };
    for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        char label[40] = "seed xxxx";
        for (int k = 0; k < 4; k++)
            label[5 + k] = "0123456789abcdef"[(seeds[i] >> (12 - 4 * k)) & 0xF];
        set_rgsr(seeds[i], 0);
        irg_seq(label, 16, 0);
    }
    set_rgsr(0xace1, 0);
    irg_seq("seed ace1, 64 more", 16, 0);
    irg_seq("", 16, 0);
    irg_seq("", 16, 0);
    irg_seq("", 16, 0);

    puts("== IRG excludes: GCR_EL1.Exclude | Xm[15:0]\n");
    static const struct { u64 gcr, xm; const char *label; } ex[] = {
        { 0x0001, 0, "GCR excl 0" },
        { 0xaaaa, 0, "GCR excl odd" },
        { 0x5555, 0, "GCR excl even" },
        { 0xfffe, 0, "GCR excl all but 0" },
        { 0x7fff, 0, "GCR excl all but f" },
        { 0xffff, 0, "GCR excl all -> 0" },
        { 0x0001, 0x00f0, "GCR 0001 | Xm 00f0" },
        { 0x0000, 0xffffffffffff0f0fUL, "Xm ffff...0f0f (high bits ignored)" },
        { 0x0000, 0xffff, "Xm ffff -> 0" },
    };
    for (unsigned i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        set_gcr(ex[i].gcr);
        set_rgsr(0xace1, 3);
        irg_seq(ex[i].label, 16, ex[i].xm);
    }
    set_gcr(0x0001);
    printf("GCR_EL1 read back %lx\n", read_sysreg(gcr_el1));
    set_gcr(0);

    puts("== IRG operand forms\n");
    set_rgsr(0x1234, 0);
    u64 r = irg(0xab00000040400123UL, 0);
    printf("irg keeps bits 63:60 and 55:0: %016lx\n", r);
    r = irg(0x0f00000040400123UL, 0);
    printf("irg replaces old tag f:        %016lx\n", r);
    u64 same, tagged;
    __asm__ volatile("mov x10, sp\n\t"
                     "irg x9, sp\n\t"            /* Xn = SP, Xm = XZR */
                     "eor %0, x9, x10\n\t"
                     "mov x11, sp\n\t"
                     "irg sp, x11, xzr\n\t"     /* Xd = SP */
                     "mov %1, sp\n\t"
                     "mov sp, x10\n\t"
                     "eor %1, %1, x10"
                     : "=&r"(same), "=&r"(tagged) :: "x9", "x10", "x11", "memory");
    printf("irg x9, sp: xor with sp %016lx; irg sp: xor %016lx\n", same, tagged);
    printf("RGSR_EL1 after: %lx\n", read_sysreg(rgsr_el1));
}

static void gmi_tests(void)
{
    puts("== GMI\n");
    static const u64 c[][2] = {
        { 0x0000000040400000UL, 0 },
        { 0x0500000040400000UL, 0 },
        { 0xff00000040400000UL, 0x0000000000000001UL },
        { 0x0a00000040400000UL, 0xffffffffffff0000UL },
        { 0x0300000000000000UL, 0x0000000000000008UL },
    };
    for (unsigned i = 0; i < 5; i++) {
        u64 r;
        __asm__("gmi %0, %1, %2" : "=r"(r) : "r"(c[i][0]), "r"(c[i][1]));
        printf("gmi(%016lx, %016lx) = %016lx\n", c[i][0], c[i][1], r);
    }
    u64 r;
    __asm__("mov x9, #0x10\n\tgmi %0, sp, x9" : "=r"(r) :: "x9");
    printf("gmi(sp, 0x10) = %016lx\n", r);
}

#define ADDG(label, insn, ptr)                                                               \
    do {                                                                                     \
        u64 _r;                                                                              \
        __asm__(insn : "=r"(_r) : "r"((u64)(ptr)));                                          \
        printf("%-30s %016lx -> %016lx\n", label, (u64)(ptr), _r);                            \
    } while (0)

static void addg_tests(void)
{
    puts("== ADDG/SUBG (tag offset over non-excluded tags)\n");
    set_gcr(0);
    ADDG("addg #0,#0 (tag 7)", "addg %0, %1, #0, #0", 0x0700000040400000UL);
    ADDG("addg #16,#1", "addg %0, %1, #16, #1", 0x0700000040400000UL);
    ADDG("addg #1008,#15 (max)", "addg %0, %1, #1008, #15", 0x0700000040400000UL);
    ADDG("addg #0,#1 tag f wraps", "addg %0, %1, #0, #1", 0x0f00000040400000UL);
    ADDG("subg #16,#1", "subg %0, %1, #16, #1", 0x0700000040400010UL);
    ADDG("subg #1008,#3 tag 0", "subg %0, %1, #1008, #3", 0x0000000040400000UL);
    ADDG("addg carry into bit 56", "addg %0, %1, #16, #0", 0x02fffffffffffff0UL);
    ADDG("addg carry into bit 60", "addg %0, %1, #32, #2", 0x0ffffffffffffff0UL);
    ADDG("subg borrow from bit 56", "subg %0, %1, #16, #0", 0x0500000000000008UL);
    ADDG("addg keeps bits 63:60", "addg %0, %1, #48, #5", 0xa300000040400000UL);
    set_gcr(0x0001);
    ADDG("excl 0: addg #0,#1 tag f", "addg %0, %1, #0, #1", 0x0f00000040400000UL);
    ADDG("excl 0: addg #0,#0 tag 0", "addg %0, %1, #0, #0", 0x0000000040400000UL);
    set_gcr(0xaaaa);
    ADDG("excl odd: addg #0,#0 tag 3", "addg %0, %1, #0, #0", 0x0300000040400000UL);
    ADDG("excl odd: addg #0,#1 tag 3", "addg %0, %1, #0, #1", 0x0300000040400000UL);
    ADDG("excl odd: addg #0,#9 tag 4", "addg %0, %1, #0, #9", 0x0400000040400000UL);
    ADDG("excl odd: subg #0,#1 tag 4", "subg %0, %1, #0, #1", 0x0400000040400000UL);
    set_gcr(0xffff);
    ADDG("excl all: addg #0,#5 tag 4", "addg %0, %1, #0, #5", 0x0400000040400000UL);
    set_gcr(0);
    u64 r;
    __asm__ volatile("mov x10, sp\n\taddg sp, sp, #32, #4\n\tmov x9, sp\n\tmov sp, x10\n\t"
                     "sub %0, x9, x10" : "=r"(r) :: "x9", "x10", "memory");
    printf("addg sp, sp, #32, #4: new sp - old sp = %016lx\n", r);
}

#define SUBP(label, insn, a, b)                                                              \
    do {                                                                                     \
        u64 _r, _f;                                                                          \
        __asm__ volatile("msr nzcv, xzr\n\t" insn "\n\tmrs %1, nzcv"                          \
                         : "=&r"(_r), "=r"(_f) : "r"((u64)(a)), "r"((u64)(b)) : "cc");        \
        printf("%-10s %016lx %016lx -> %016lx nzcv=%x\n", label, (u64)(a), (u64)(b), _r,      \
               (u32)(_f >> 28));                                                             \
    } while (0)

static void subp_tests(void)
{
    puts("== SUBP/SUBPS/CMPP (56-bit sign-extended operands)\n");
    SUBP("subp", "subp %0, %2, %3", 0x0500000040400100UL, 0x0a00000040400000UL);
    SUBP("subp", "subp %0, %2, %3", 0x0000000040400000UL, 0x0f00000040400100UL);
    SUBP("subp", "subp %0, %2, %3", 0xff80000000000000UL, 0x0000000000000001UL);
    SUBP("subps", "subps %0, %2, %3", 0x0500000040400100UL, 0x0a00000040400100UL);
    SUBP("subps", "subps %0, %2, %3", 0x0000000040400000UL, 0x0f00000040400100UL);
    SUBP("subps", "subps %0, %2, %3", 0x0f00000040400100UL, 0x0000000040400000UL);
    SUBP("subps", "subps %0, %2, %3", 0x007fffffffffffffUL, 0x0080000000000000UL);
    SUBP("subps", "subps %0, %2, %3", 0x0080000000000000UL, 0x0000000000000001UL);
    SUBP("cmpp", "mov %0, #0\n\tcmpp %2, %3", 0x0300000040400000UL, 0x0c00000040400000UL);
    SUBP("cmpp", "mov %0, #0\n\tcmpp %2, %3", 0x0300000040400000UL, 0x0c00000040400010UL);
    u64 r;
    __asm__ volatile("mov x9, sp\n\tsubp %0, sp, x9" : "=r"(r) :: "x9");
    printf("subp sp, sp = %lx\n", r);
}

static void ata0_tests(void)
{
    puts("== SCTLR_EL1.ATA = 0: IRG/ADDG/SUBG give tag 0, RGSR untouched\n");
    mte_config(TCF_NONE, TCF_NONE, 0, 1);
    set_gcr(0);
    set_rgsr(0xace1, 5);
    irg_seq("irg with ATA=0", 8, 0);
    ADDG("addg #16,#3 tag 7 ATA=0", "addg %0, %1, #16, #3", 0x0700000040400000UL);
    ADDG("subg #16,#3 tag 7 ATA=0", "subg %0, %1, #16, #3", 0x0700000040400010UL);
    u64 r;
    __asm__("gmi %0, %1, xzr" : "=r"(r) : "r"(0x0700000040400000UL));
    printf("gmi with ATA=0 (unaffected): %lx\n", r);
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
    irg_seq("irg with ATA=1 again", 8, 0);
}

int main(void)
{
    puts("mte-tagops: MTE register instructions\n");
    id_regs();
    irg_tests();
    gmi_tests();
    addg_tests();
    subp_tests();
    ata0_tests();
    puts("mte-tagops: done\n");
    return 0;
}
