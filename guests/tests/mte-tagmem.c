/*
 * mte-tagmem: instructions that read and write allocation tags.
 *   LDG, STG/STZG/ST2G/STZ2G/STGP (offset, pre- and post-index), LDGM/STGM/STZGM, DC GVA/GZVA,
 *   on Normal Tagged memory, through the untagged (MAIR 0xFF) alias and the untagged page
 *   (tag stores ignored, LDG reads 0), through the TTBR1 upper-half alias, their faults
 *   (alignment, permission, translation), and their behaviour with SCTLR_EL1.ATA = 0.
 * Tag checking is off here (TCF = 0); mte-check covers checks.
 * Tags are shown as one hex digit per 16-byte granule.
 */
#include "rt.h"

#define T   (TEST_BASE + 0x1000)     /* a tagged page */

static void clear_page_tags(u64 page)
{
    for (u64 off = 0; off < 4096; off += 256)
        stgm(page + off, 0);
}

static void show(const char *label, u64 p, int n)
{
    printf("%-34s ", label);
    print_tags(p, n);
    putc('\n');
}

static void fill(u64 p, u64 n, u8 v)
{
    for (u64 i = 0; i < n; i++)
        *(volatile u8 *)(p + i) = v;
}

/* 8-byte words of data as a string of "xx" per word (the low byte) plus zero markers */
static void show_data(const char *label, u64 p, int words)
{
    printf("%-34s ", label);
    for (int i = 0; i < words; i++)
        printf("%02x", (u32)(*(volatile u64 *)(p + 8 * (u64)i) & 0xff));
    putc('\n');
}

static void stores(void)
{
    u64 p, r;
    puts("== STG family on tagged memory (16 granules from T)\n");
    clear_page_tags(T);
    show("initial", T, 16);
    stg(WITH_TAG(T, 3));
    show("stg t3 [T]", T, 16);
    __asm__ volatile("stg %0, [%1, #16]" :: "r"(WITH_TAG(0, 5)), "r"(T) : "memory");
    show("stg Xt(t5), [T, #16]", T, 16);
    __asm__ volatile("stg %0, [%1, #-16]" :: "r"(WITH_TAG(0, 6)), "r"(T + 0x40) : "memory");
    show("stg t6, [T+0x40, #-16]", T, 16);
    p = T + 0x40;
    __asm__ volatile("stg %1, [%0, #32]!" : "+r"(p) : "r"(WITH_TAG(0, 7)) : "memory");
    show("stg t7, [T+0x40, #32]!", T, 16);
    printf("  writeback T+%lx\n", p - T);
    __asm__ volatile("stg %1, [%0], #-48" : "+r"(p) : "r"(WITH_TAG(0, 8)) : "memory");
    show("stg t8, [T+0x60], #-48", T, 16);
    printf("  writeback T+%lx\n", p - T);
    __asm__ volatile("stg %0, [%1, #4080]" :: "r"(WITH_TAG(0, 9)), "r"(T - 0xf00) : "memory");
    show("stg t9, [T-0xf00, #4080] (max)", T, 16);

    fill(T + 0x80, 0x80, 0xaa);
    __asm__ volatile("stzg %0, [%0]" :: "r"(WITH_TAG(T + 0x80, 0xa)) : "memory");
    show("stzg ta [T+0x80]", T, 16);
    show_data("  data T+0x80 (low byte per word)", T + 0x80, 8);
    __asm__ volatile("st2g %0, [%0, #32]" :: "r"(WITH_TAG(T + 0x80, 0xb)) : "memory");
    show("st2g tb [T+0xa0]", T, 16);
    p = WITH_TAG(T + 0xe0, 0xc);
    __asm__ volatile("stz2g %0, [%0, #-64]!" : "+r"(p) :: "memory");
    show("stz2g tc [T+0xe0, #-64]! ", T, 16);
    show_data("  data T+0x80", T + 0x80, 16);
    printf("  writeback T+%lx tag %lx\n", (p & 0xffffffffffffUL) - T, PTR_TAG(p));
    p = WITH_TAG(T + 0xc0, 0xd);
    __asm__ volatile("st2g %0, [%0], #32" : "+r"(p) :: "memory");
    show("st2g td [T+0xc0], #32", T, 16);
    printf("  writeback T+%lx\n", (p & 0xffffffffffffUL) - T);

    puts("== STGP: data pair + tag of the address\n");
    clear_page_tags(T);
    fill(T, 0x100, 0x11);
    __asm__ volatile("stgp %1, %2, [%0, #32]" :: "r"(WITH_TAG(T, 4)), "r"(0x4444444444444444UL),
                     "r"(0x5555555555555555UL) : "memory");
    show("stgp (t4) [T, #32]", T, 16);
    show_data("  data", T, 8);
    p = WITH_TAG(T + 0x80, 0xe);
    __asm__ volatile("stgp xzr, %1, [%0, #-16]!" : "+r"(p) : "r"(0x6666666666666666UL) : "memory");
    show("stgp (te) xzr,x [T+0x80, #-16]!", T, 16);
    show_data("  data T+0x70", T + 0x70, 4);
    printf("  writeback T+%lx\n", (p & 0xffffffffffffUL) - T);
    __asm__ volatile("stgp %1, %1, [%0], #1008" : "+r"(p) : "r"(0x7777777777777777UL) : "memory");
    show("stgp (te) [T+0x70], #1008", T, 16);
    printf("  writeback T+%lx\n", (p & 0xffffffffffffUL) - T);

    puts("== LDG: merges the tag into Xt, address aligned down\n");
    r = 0xffffffffffffffffUL;
    __asm__ volatile("ldg %0, [%1]" : "+r"(r) : "r"(T + 0x7f) : "memory");
    printf("ldg Xt=~0, [T+0x7f]        %016lx\n", r);
    r = 0x1234;
    __asm__ volatile("ldg %0, [%1, #-16]" : "+r"(r) : "r"(WITH_TAG(T + 0x30, 9)) : "memory");
    printf("ldg Xt=0x1234, [T+0x30,#-16] %016lx\n", r);
    r = WITH_TAG(T, 0xf);
    __asm__ volatile("ldg %0, [%0, #4080]" : "+r"(r) :: "memory");
    printf("ldg Xt=Xn, [T-tf, #4080]   %016lx\n", r);
}

static void multiple(void)
{
    puts("== LDGM/STGM/STZGM (block = 4 << GMID_EL1.BS bytes), DC GVA/GZVA (DC ZVA block)\n");
    clear_page_tags(T);
    for (int i = 0; i < 16; i++)
        stg(WITH_TAG(T + 0x100 + 16 * (u64)i, i));
    show("stg 0..f at T+0x100", T + 0x100, 16);
    printf("ldgm [T+0x100]             %016lx\n", ldgm(T + 0x100));
    printf("ldgm [T+0x1ff] (aligned down) %016lx\n", ldgm(T + 0x1ff));
    printf("ldgm [T+0x0]               %016lx\n", ldgm(T));
    stgm(T + 0x2a0, 0xfedcba9876543210UL);
    show("stgm fedc..3210 [T+0x2a0]", T + 0x200, 16);
    fill(T + 0x300, 0x100, 0x22);
    __asm__ volatile("stzgm %0, [%1]" :: "r"(0x000000000000000bUL), "r"(T + 0x347) : "memory");
    show("stzgm Xt=0xb [T+0x347]", T + 0x300, 16);
    show_data("  data T+0x300 (32 words)", T + 0x300, 32);
    __asm__ volatile("stzgm %0, [%1]" :: "r"(0xfffffffffffffff6UL), "r"(T + 0x3c0) : "memory");
    show("stzgm Xt=..f6 [T+0x3c0] (tag 6)", T + 0x300, 16);

    clear_page_tags(T);
    fill(T + 0x400, 0x100, 0x33);
    __asm__ volatile("dc gva, %0" :: "r"(WITH_TAG(T + 0x45f, 0x7)) : "memory");
    show("dc gva t7 [T+0x45f]", T + 0x400, 16);
    __asm__ volatile("dc gzva, %0" :: "r"(WITH_TAG(T + 0x481, 0x9)) : "memory");
    show("dc gzva t9 [T+0x481]", T + 0x400, 16);
    show_data("  data T+0x400 (32 words)", T + 0x400, 32);
}

static void untagged(void)
{
    puts("== untagged memory: tag stores ignored, LDG/LDGM read 0, data still written\n");
    u64 A = UNTAGGED_ALIAS(T);   /* same physical page as T, mapped Normal (0xFF) */
    u64 U = TEST_UNTAGGED_PG;
    clear_page_tags(T);
    stg(WITH_TAG(T + 0x20, 5));
    show("tagged view after stg t5 [T+0x20]", T, 8);
    printf("ldg via alias [A+0x20]     %016lx\n", ldg(A + 0x20));
    printf("ldgm via alias [A]         %016lx\n", ldgm(A));
    stg(WITH_TAG(A + 0x30, 0xc));
    st2g(WITH_TAG(A + 0x40, 0xc));
    stgm(A, 0xccccccccccccccccUL);
    __asm__ volatile("dc gva, %0" :: "r"(WITH_TAG(A + 0x40, 0xc)) : "memory");
    show("tagged view after stg/st2g/stgm/dc gva via alias", T, 8);
    fill(T, 0x80, 0x44);
    stzg(WITH_TAG(A, 0xd));
    __asm__ volatile("stgp %1, %1, [%0, #16]" :: "r"(WITH_TAG(A, 0xd)), "r"(0x5151515151515151UL) : "memory");
    __asm__ volatile("dc gzva, %0" :: "r"(WITH_TAG(A + 0x40, 0xd)) : "memory");
    show("tagged view after stzg/stgp/dc gzva via alias", T, 8);
    show_data("  data via T (16 words)", T, 16);
    fill(U, 0x100, 0x55);
    stg(WITH_TAG(U, 3));
    stzg(WITH_TAG(U + 0x10, 3));
    __asm__ volatile("stzgm %0, [%1]" :: "r"(3UL), "r"(U + 0x40) : "memory");
    show("untagged page after stg/stzg/stzgm", U, 8);
    show_data("  data (16 words)", U, 16);
    printf("ldgm untagged page         %016lx\n", ldgm(U));
}

static void upper(void)
{
    puts("== TTBR1 upper-half alias shares tags with the lower VA\n");
    clear_page_tags(T);
    u64 H = UPPER_ALIAS(T);
    stg(WITH_TAG(H + 0x10, 0xc));
    st2g(WITH_TAG(H + 0x20, 0x3));
    show("lower view after stg/st2g via upper", T, 8);
    printf("ldg upper [H+0x10]         %016lx\n", ldg(H + 0x10));
    printf("ldgm upper [H]             %016lx\n", ldgm(H));
}

#define FAULT(label, stmt)                                                                   \
    do {                                                                                     \
        expect_fault();                                                                      \
        stmt;                                                                                \
        report_fault(label);                                                                 \
    } while (0)

static void faults(void)
{
    puts("== faults\n");
    clear_page_tags(T);
    u64 p, r = 0;
    FAULT("stg misaligned (T+8)", stg(WITH_TAG(T + 8, 1)));
    FAULT("stzg misaligned (T+4)", stzg(WITH_TAG(T + 4, 1)));
    FAULT("st2g misaligned (T+0x18)", st2g(WITH_TAG(T + 0x18, 1)));
    FAULT("st2g 16-aligned only (T+0x10)", st2g(WITH_TAG(T + 0x10, 2)));
    FAULT("stgp misaligned (T+8)",
          __asm__ volatile("stgp xzr, xzr, [%0]" :: "r"(T + 8) : "memory"));
    FAULT("ldg unaligned (T+0x13)", r = ldg(T + 0x13));
    show("tags after", T, 4);
    p = T + 0x48;
    FAULT("stg pre-index misaligned",
          __asm__ volatile("stg %0, [%0, #16]!" : "+r"(p) :: "memory"));
    printf("  base %016lx (not written back)\n", p);
    FAULT("stg read-only page", stg(TEST_RO_PG + 0x10));
    FAULT("st2g read-only page", st2g(TEST_RO_PG));
    FAULT("stgp read-only page",
          __asm__ volatile("stgp xzr, xzr, [%0]" :: "r"(TEST_RO_PG) : "memory"));
    FAULT("stgm read-only page", stgm(TEST_RO_PG, 0));
    FAULT("dc gva read-only page",
          __asm__ volatile("dc gva, %0" :: "r"(TEST_RO_PG + 0x40) : "memory"));
    FAULT("ldg read-only page", r = ldg(TEST_RO_PG + 0x20));
    FAULT("stg unmapped page", stg(TEST_UNMAPPED_PG + 0x20));
    FAULT("ldg unmapped page", r = ldg(TEST_UNMAPPED_PG + 0x20));
    FAULT("ldgm unmapped page", r = ldgm(TEST_UNMAPPED_PG + 0x100));
    FAULT("st2g crossing into unmapped",
          st2g(WITH_TAG(TEST_UNMAPPED_PG - 0x10, 4)));
    FAULT("st2g crossing into read-only",
          st2g(WITH_TAG(TEST_RO_PG - 0x10, 4)));
    show("  last granules before RO page (no partial tag store)", TEST_RO_PG - 0x20, 2);
    (void)r;
}

static void ata0(void)
{
    puts("== SCTLR_EL1.ATA = 0: tag instructions do not touch tags\n");
    clear_page_tags(T);
    stg(WITH_TAG(T, 6));
    stg(WITH_TAG(T + 0x10, 7));
    mte_config(TCF_NONE, TCF_NONE, 0, 1);
    u64 r = 0xffffffffffffffffUL;
    __asm__ volatile("ldg %0, [%1]" : "+r"(r) : "r"(T) : "memory");
    printf("ldg Xt=~0 [T] (tag 6)      %016lx\n", r);
    printf("ldgm [T]                   %016lx\n", ldgm(T));
    stg(WITH_TAG(T + 0x20, 9));
    st2g(WITH_TAG(T + 0x30, 9));
    stgm(T + 0x100, 0x9999999999999999UL);
    fill(T + 0x40, 0x40, 0x66);
    stzg(WITH_TAG(T + 0x40, 9));
    __asm__ volatile("stgp %1, %1, [%0]" :: "r"(WITH_TAG(T + 0x50, 9)), "r"(0x7777777777777777UL) : "memory");
    __asm__ volatile("dc gzva, %0" :: "r"(WITH_TAG(T + 0xc0, 9)) : "memory");
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
    show("tags after stg/st2g/stzg/stgp/dc gzva", T, 16);
    printf("ldgm [T+0x100] after stgm  %016lx\n", ldgm(T + 0x100));
    show_data("  data T+0x40 (8 words)", T + 0x40, 8);
    mte_config(TCF_NONE, TCF_NONE, 0, 1);
    FAULT("ATA=0 stg misaligned", stg(T + 8));
    FAULT("ATA=0 stg read-only", stg(TEST_RO_PG));
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
}

int main(void)
{
    puts("mte-tagmem: allocation tag loads and stores\n");
    stores();
    multiple();
    untagged();
    upper();
    faults();
    ata0();
    puts("mte-tagmem: done\n");
    return 0;
}
