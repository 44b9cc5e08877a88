/*
 * isa-alu: integer data processing, 32- and 64-bit forms, with NZCV after each instruction.
 *
 * Line format:  <label> <result> <NZCV as one hex digit> [<result> <nzcv> ...]
 * Each "TP" line runs one instruction over a table of four operand pairs (x = a, y = b).
 * The destination starts as 0xa5a5a5a5a5a5a5a5 so merges (movk, bfm) and the zeroing of the
 * upper half by W forms are visible. NZCV is set to a known value before each instruction.
 */
#include "rt.h"

static const u64 P64[4][2] = {
    { 0x7fffffffffffffffUL, 0x0000000000000001UL },
    { 0xffffffffffffffffUL, 0x0000000000000001UL },
    { 0x8000000000000000UL, 0x8000000000000000UL },
    { 0x123456789abcdef0UL, 0xfedcba9876543210UL },
};
/* W forms: the upper halves hold garbage that must be ignored. */
static const u64 P32[4][2] = {
    { 0xdead00007fffffffUL, 0x0000000000000001UL },
    { 0x00000001ffffffffUL, 0xbeef000000000001UL },
    { 0x0000000080000000UL, 0x1111111180000000UL },
    { 0xcafe00009abcdef0UL, 0x0000000076543210UL },
};

#define C_SET 0x20000000UL
#define ALL_SET 0xF0000000UL

static void col(u64 r, u64 f)
{
    printf(" %016lx %x", r, (u32)(f >> 28));
}

/* one instruction over a pair table, initial NZCV = fin */
#define TP(label, tbl, fin, insn)                                                             \
    do {                                                                                      \
        printf("%-22s", label);                                                               \
        for (int _i = 0; _i < 4; _i++) {                                                      \
            u64 _r = 0xa5a5a5a5a5a5a5a5UL, _f;                                                \
            __asm__ volatile("msr nzcv, %[fi]\n\t" insn "\n\tmrs %[f], nzcv"                  \
                             : [r] "+&r"(_r), [f] "=r"(_f)                                    \
                             : [a] "r"(tbl[_i][0]), [b] "r"(tbl[_i][1]), [fi] "r"((u64)(fin)) \
                             : "cc");                                                         \
            col(_r, _f);                                                                      \
        }                                                                                     \
        putc('\n');                                                                           \
    } while (0)

/* one instruction, one operand pair */
#define T1(label, A_, B_, fin, insn)                                                            \
    do {                                                                                      \
        u64 _r = 0xa5a5a5a5a5a5a5a5UL, _f;                                                    \
        __asm__ volatile("msr nzcv, %[fi]\n\t" insn "\n\tmrs %[f], nzcv"                      \
                         : [r] "+&r"(_r), [f] "=r"(_f)                                        \
                         : [a] "r"((u64)(A_)), [b] "r"((u64)(B_)), [fi] "r"((u64)(fin))       \
                         : "cc");                                                             \
        printf("%-22s", label);                                                               \
        col(_r, _f);                                                                          \
        putc('\n');                                                                           \
    } while (0)

static void addsub(void)
{
    puts("== add/sub immediate\n");
    TP("add x,#0xfff", P64, 0, "add %[r], %[a], #0xfff");
    TP("add x,#0xabc,lsl12", P64, 0, "add %[r], %[a], #0xabc, lsl #12");
    TP("adds x,#1", P64, 0, "adds %[r], %[a], #1");
    TP("subs x,#1", P64, 0, "subs %[r], %[a], #1");
    TP("subs x,#0xfff,lsl12", P64, 0, "subs %[r], %[a], #0xfff, lsl #12");
    TP("adds w,#1", P32, 0, "adds %w[r], %w[a], #1");
    TP("subs w,#0x800", P32, 0, "subs %w[r], %w[a], #0x800");
    TP("sub w,#1,lsl12", P32, 0, "sub %w[r], %w[a], #1, lsl #12");
    TP("cmp x,#0", P64, ALL_SET, "cmp %[a], #0");
    TP("cmn w,#1", P32, 0, "cmn %w[a], #1");

    puts("== add/sub shifted register\n");
    TP("adds x", P64, 0, "adds %[r], %[a], %[b]");
    TP("subs x", P64, 0, "subs %[r], %[a], %[b]");
    TP("adds w", P32, 0, "adds %w[r], %w[a], %w[b]");
    TP("subs w", P32, 0, "subs %w[r], %w[a], %w[b]");
    TP("add x,lsl#7", P64, 0, "add %[r], %[a], %[b], lsl #7");
    TP("adds x,lsr#63", P64, 0, "adds %[r], %[a], %[b], lsr #63");
    TP("subs x,asr#13", P64, 0, "subs %[r], %[a], %[b], asr #13");
    TP("adds w,asr#31", P32, 0, "adds %w[r], %w[a], %w[b], asr #31");
    TP("sub w,lsl#31", P32, 0, "sub %w[r], %w[a], %w[b], lsl #31");
    TP("negs x", P64, 0, "negs %[r], %[b]");
    TP("negs w,lsr#1", P32, 0, "negs %w[r], %w[b], lsr #1");
    TP("cmp x,x", P64, 0, "cmp %[a], %[b]");
    TP("cmn w,w", P32, 0, "cmn %w[a], %w[b]");

    puts("== add/sub extended register\n");
    TP("add x,w,uxtb", P64, 0, "add %[r], %[a], %w[b], uxtb");
    TP("adds x,w,uxth#1", P64, 0, "adds %[r], %[a], %w[b], uxth #1");
    TP("add x,w,uxtw#2", P64, 0, "add %[r], %[a], %w[b], uxtw #2");
    TP("subs x,x,uxtx#3", P64, 0, "subs %[r], %[a], %[b], uxtx #3");
    TP("add x,w,sxtb#4", P64, 0, "add %[r], %[a], %w[b], sxtb #4");
    TP("subs x,w,sxth", P64, 0, "subs %[r], %[a], %w[b], sxth");
    TP("adds x,w,sxtw#1", P64, 0, "adds %[r], %[a], %w[b], sxtw #1");
    TP("sub x,x,sxtx#2", P64, 0, "sub %[r], %[a], %[b], sxtx #2");
    TP("adds w,w,sxtb", P32, 0, "adds %w[r], %w[a], %w[b], sxtb");
    TP("sub w,w,uxth#3", P32, 0, "sub %w[r], %w[a], %w[b], uxth #3");
    TP("cmp x,w,sxtw", P64, 0, "cmp %[a], %w[b], sxtw");
    T1("add x,sp,#16 (sp-rel)", 0, 0, 0, "mov %[r], sp\n\tadd %[f], sp, #16\n\tsub %[r], %[f], %[r]");

    puts("== adc/sbc (C=0, then C=1)\n");
    TP("adc x C0", P64, 0, "adc %[r], %[a], %[b]");
    TP("adc x C1", P64, C_SET, "adc %[r], %[a], %[b]");
    TP("adcs x C0", P64, 0, "adcs %[r], %[a], %[b]");
    TP("adcs x C1", P64, C_SET, "adcs %[r], %[a], %[b]");
    TP("sbcs x C0", P64, 0, "sbcs %[r], %[a], %[b]");
    TP("sbcs x C1", P64, C_SET, "sbcs %[r], %[a], %[b]");
    TP("adcs w C1", P32, C_SET, "adcs %w[r], %w[a], %w[b]");
    TP("sbc w C0", P32, 0, "sbc %w[r], %w[a], %w[b]");
    TP("sbcs w C0", P32, 0, "sbcs %w[r], %w[a], %w[b]");
    TP("ngcs x C1", P64, C_SET, "ngcs %[r], %[b]");
}

static void logical(void)
{
    puts("== logical immediate (bitmask shapes)\n");
    TP("and x,#0x5555..", P64, 0, "and %[r], %[a], #0x5555555555555555");
    TP("orr x,#0x3333..", P64, 0, "orr %[r], %[a], #0x3333333333333333");
    TP("eor x,#0x0f0f..", P64, 0, "eor %[r], %[a], #0x0f0f0f0f0f0f0f0f");
    TP("and x,#0x00ff00ff..", P64, 0, "and %[r], %[a], #0x00ff00ff00ff00ff");
    TP("orr x,#0xffff0000..", P64, 0, "orr %[r], %[a], #0xffff0000ffff0000");
    TP("eor x,#0x00000000ffffffff", P64, 0, "eor %[r], %[a], #0x00000000ffffffff");
    TP("and x,#0x8000000000000001", P64, 0, "and %[r], %[a], #0x8000000000000001");
    TP("orr x,#0x7ffffffffffffffe", P64, 0, "orr %[r], %[a], #0x7ffffffffffffffe");
    TP("eor x,#0xfffffffffffffffe", P64, 0, "eor %[r], %[a], #0xfffffffffffffffe");
    TP("and x,#0x1e001e00..", P64, 0, "and %[r], %[a], #0x1e001e001e001e00");
    TP("orr x,#0x0000007ff8000000", P64, 0, "orr %[r], %[a], #0x0000007ff8000000");
    TP("ands x,#0xff00000000000000", P64, 0, "ands %[r], %[a], #0xff00000000000000");
    TP("ands x,#1", P64, ALL_SET, "ands %[r], %[a], #1");
    TP("tst x,#0x8000000000000000", P64, 0, "tst %[a], #0x8000000000000000");
    TP("and w,#0xff00ff00", P32, 0, "and %w[r], %w[a], #0xff00ff00");
    TP("orr w,#0x80000001", P32, 0, "orr %w[r], %w[a], #0x80000001");
    TP("eor w,#0xaaaaaaaa", P32, 0, "eor %w[r], %w[a], #0xaaaaaaaa");
    TP("ands w,#0x7ffffffe", P32, 0, "ands %w[r], %w[a], #0x7ffffffe");
    TP("ands w,#0x80000000", P32, 0, "ands %w[r], %w[a], #0x80000000");
    TP("mov x,#0x0fffffffffff0000", P64, 0, "mov %[r], #0x0fffffffffff0000");
    TP("mov w,#0x00fff000", P64, 0, "mov %w[r], #0x00fff000");

    puts("== logical shifted register\n");
    TP("and x", P64, 0, "and %[r], %[a], %[b]");
    TP("orr x,lsl#4", P64, 0, "orr %[r], %[a], %[b], lsl #4");
    TP("eor x,lsr#60", P64, 0, "eor %[r], %[a], %[b], lsr #60");
    TP("bic x,asr#63", P64, 0, "bic %[r], %[a], %[b], asr #63");
    TP("orn x,ror#8", P64, 0, "orn %[r], %[a], %[b], ror #8");
    TP("eon x,ror#33", P64, 0, "eon %[r], %[a], %[b], ror #33");
    TP("ands x,lsl#1", P64, 0, "ands %[r], %[a], %[b], lsl #1");
    TP("bics x", P64, 0, "bics %[r], %[a], %[b]");
    TP("and w,ror#31", P32, 0, "and %w[r], %w[a], %w[b], ror #31");
    TP("orn w,asr#3", P32, 0, "orn %w[r], %w[a], %w[b], asr #3");
    TP("eon w", P32, 0, "eon %w[r], %w[a], %w[b]");
    TP("ands w,lsr#1", P32, 0, "ands %w[r], %w[a], %w[b], lsr #1");
    TP("bics w,lsl#31", P32, 0, "bics %w[r], %w[a], %w[b], lsl #31");
    TP("mvn x,ror#4", P64, 0, "mvn %[r], %[b], ror #4");
    TP("mvn w", P32, 0, "mvn %w[r], %w[b]");
    TP("tst w,w", P32, 0, "tst %w[a], %w[b]");
}

static void moves(void)
{
    puts("== movz/movn/movk, adr/adrp\n");
    T1("movz x,#0xbeef,lsl48", 0, 0, 0, "movz %[r], #0xbeef, lsl #48");
    T1("movz w,#0xffff,lsl16", 0, 0, 0, "movz %w[r], #0xffff, lsl #16");
    T1("movn x,#0", 0, 0, 0, "movn %[r], #0");
    T1("movn x,#0x1234,lsl32", 0, 0, 0, "movn %[r], #0x1234, lsl #32");
    T1("movn w,#0x8000,lsl16", 0, 0, 0, "movn %w[r], #0x8000, lsl #16");
    T1("movk x,#0x1111", 0, 0, 0, "movk %[r], #0x1111");
    T1("movk x,#0x2222,lsl16", 0, 0, 0, "movk %[r], #0x2222, lsl #16");
    T1("movk x,#0x3333,lsl32", 0, 0, 0, "movk %[r], #0x3333, lsl #32");
    T1("movk x,#0x4444,lsl48", 0, 0, 0, "movk %[r], #0x4444, lsl #48");
    T1("movk w,#0x5555,lsl16", 0, 0, 0, "movk %w[r], #0x5555, lsl #16");
    T1("mov x,x (orr)", 0x0123456789abcdefUL, 0, 0, "mov %[r], %[a]");
    T1("mov w,w", 0x0123456789abcdefUL, 0, 0, "mov %w[r], %w[a]");
    /* pc-relative: print distances between labels (position independent) and the absolute
     * value (the image is linked at a fixed address) */
    T1("adr fwd-back", 0, 0, 0, "adr %[r], 1f\n\t1: adr %[f], 1b\n\tsub %[r], %[r], %[f]\n\tadr %[f], 2f\n\tsub %[r], %[f], %[r]\n\t2:");
    T1("adr .+0xffffc", 0, 0, 0, "0: adr %[r], .+0xffffc\n\tadr %[f], 0b\n\tsub %[r], %[r], %[f]");
    T1("adr .-0x100000", 0, 0, 0, "0: adr %[r], .-0x100000\n\tadr %[f], 0b\n\tsub %[r], %[f], %[r]");
    T1("adrp main", 0, 0, 0, "adrp %[r], main");
    T1("adrp .+4GiB-4KiB", 0, 0, 0, "0: adrp %[r], .+0xfffff000\n\tadrp %[f], 0b\n\tsub %[r], %[r], %[f]");
    T1("adrp .-4GiB", 0, 0, 0, "0: adrp %[r], .-0x100000000\n\tadrp %[f], 0b\n\tsub %[r], %[f], %[r]");
}

static void bitfield(void)
{
    puts("== bitfield, extr\n");
    TP("lsl x,#13", P64, 0, "lsl %[r], %[a], #13");
    TP("lsr x,#63", P64, 0, "lsr %[r], %[a], #63");
    TP("asr x,#7", P64, 0, "asr %[r], %[b], #7");
    TP("lsl w,#31", P32, 0, "lsl %w[r], %w[a], #31");
    TP("lsr w,#4", P32, 0, "lsr %w[r], %w[b], #4");
    TP("asr w,#31", P32, 0, "asr %w[r], %w[b], #31");
    TP("sbfx x,#4,#12", P64, 0, "sbfx %[r], %[b], #4, #12");
    TP("ubfx x,#60,#4", P64, 0, "ubfx %[r], %[b], #60, #4");
    TP("sbfiz x,#32,#20", P64, 0, "sbfiz %[r], %[b], #32, #20");
    TP("ubfiz x,#1,#63", P64, 0, "ubfiz %[r], %[b], #1, #63");
    TP("bfi x,#8,#16", P64, 0, "bfi %[r], %[b], #8, #16");
    TP("bfxil x,#40,#24", P64, 0, "bfxil %[r], %[b], #40, #24");
    TP("bfc x,#4,#56", P64, 0, "bfc %[r], #4, #56");
    TP("sbfx w,#31,#1", P32, 0, "sbfx %w[r], %w[a], #31, #1");
    TP("ubfiz w,#28,#4", P32, 0, "ubfiz %w[r], %w[b], #28, #4");
    TP("bfi w,#0,#1", P32, 0, "bfi %w[r], %w[a], #0, #1");
    TP("bfxil w,#16,#16", P32, 0, "bfxil %w[r], %w[a], #16, #16");
    TP("sbfm x,#60,#3 (r>s)", P64, 0, "sbfm %[r], %[b], #60, #3");
    TP("ubfm x,#3,#60 (r<=s)", P64, 0, "ubfm %[r], %[b], #3, #60");
    TP("bfm x,#62,#5", P64, 0, "bfm %[r], %[b], #62, #5");
    TP("bfm w,#3,#1", P32, 0, "bfm %w[r], %w[b], #3, #1");
    TP("sxtb x", P64, 0, "sxtb %[r], %w[b]");
    TP("sxth x", P64, 0, "sxth %[r], %w[a]");
    TP("sxtw x", P64, 0, "sxtw %[r], %w[b]");
    TP("sxtb w", P32, 0, "sxtb %w[r], %w[b]");
    TP("uxtb w", P32, 0, "uxtb %w[r], %w[b]");
    TP("uxth w", P32, 0, "uxth %w[r], %w[a]");
    TP("extr x,#1", P64, 0, "extr %[r], %[a], %[b], #1");
    TP("extr x,#63", P64, 0, "extr %[r], %[a], %[b], #63");
    TP("extr w,#17", P32, 0, "extr %w[r], %w[a], %w[b], #17");
    TP("ror x,#36", P64, 0, "ror %[r], %[b], #36");
    TP("ror w,#5", P32, 0, "ror %w[r], %w[b], #5");
}

static void varshift(void)
{
    static const u64 S[4][2] = {
        { 0x8000000000000001UL, 0 },
        { 0x8123456789abcdefUL, 63 },
        { 0x8123456789abcdefUL, 64 + 4 },
        { 0xf0000000800000f1UL, 0xffffffffffffffe1UL },
    };
    puts("== variable shifts (amount mod width)\n");
    TP("lslv x", S, 0, "lslv %[r], %[a], %[b]");
    TP("lsrv x", S, 0, "lsrv %[r], %[a], %[b]");
    TP("asrv x", S, 0, "asrv %[r], %[a], %[b]");
    TP("rorv x", S, 0, "rorv %[r], %[a], %[b]");
    TP("lslv w", S, 0, "lslv %w[r], %w[a], %w[b]");
    TP("lsrv w", S, 0, "lsrv %w[r], %w[a], %w[b]");
    TP("asrv w", S, 0, "asrv %w[r], %w[a], %w[b]");
    TP("rorv w", S, 0, "rorv %w[r], %w[a], %w[b]");
}

/* Condition evaluation: for every NZCV value, a 16-bit mask of the conditions that hold
 * (bit n = condition code n: eq ne cs cc mi pl vs vc hi ls ge lt gt le al nv). */
#define CSET_BIT(c, n) "cset %w[t], " c "\n\torr %w[m], %w[m], %w[t], lsl #" #n "\n\t"
static void conditions(void)
{
    puts("== conditions: mask of conditions holding per NZCV (bit n = cond n)\n");
    for (u64 nzcv = 0; nzcv < 16; nzcv++) {
        u64 m = 0, t;
        __asm__ volatile("msr nzcv, %[fi]\n\t"
                         CSET_BIT("eq", 0) CSET_BIT("ne", 1) CSET_BIT("cs", 2) CSET_BIT("cc", 3)
                         CSET_BIT("mi", 4) CSET_BIT("pl", 5) CSET_BIT("vs", 6) CSET_BIT("vc", 7)
                         CSET_BIT("hi", 8) CSET_BIT("ls", 9) CSET_BIT("ge", 10) CSET_BIT("lt", 11)
                         CSET_BIT("gt", 12) CSET_BIT("le", 13)
                         "csinc %w[t], wzr, wzr, al\n\torr %w[m], %w[m], %w[t], lsl #14\n\t"
                         "csinc %w[t], wzr, wzr, nv\n\torr %w[m], %w[m], %w[t], lsl #15\n\t"
                         : [m] "+&r"(m), [t] "=&r"(t)
                         : [fi] "r"(nzcv << 28)
                         : "cc");
        printf("nzcv=%x conds=%04lx\n", (u32)nzcv, m);
    }

    puts("== csel family (Z=1 then Z=0)\n");
    static const u64 C[4][2] = {
        { 1, 2 },
        { 0x7fffffffffffffffUL, 0x8000000000000000UL },
        { 0xffffffff00000000UL, 0xffffffffUL },
        { 0, 0xffffffffffffffffUL },
    };
    TP("csel eq Z1", C, 0x40000000, "csel %[r], %[a], %[b], eq");
    TP("csel eq Z0", C, 0, "csel %[r], %[a], %[b], eq");
    TP("csinc ne Z1", C, 0x40000000, "csinc %[r], %[a], %[b], ne");
    TP("csinv ne Z1", C, 0x40000000, "csinv %[r], %[a], %[b], ne");
    TP("csneg ne Z1", C, 0x40000000, "csneg %[r], %[a], %[b], ne");
    TP("csneg ne Z0", C, 0, "csneg %[r], %[a], %[b], ne");
    TP("csinc w eq Z1", C, 0x40000000, "csinc %w[r], %w[a], %w[b], eq");
    TP("csinv w lt Z1", C, 0x40000000, "csinv %w[r], %w[a], %w[b], lt");
    TP("csneg w ge N1", C, 0x80000000, "csneg %w[r], %w[a], %w[b], ge");
    TP("cneg x mi N1", C, 0x80000000, "cneg %[r], %[b], mi");
    TP("cinc w hi C1", C, C_SET, "cinc %w[r], %w[b], hi");
    TP("csetm x vs V1", C, 0x10000000, "csetm %[r], vs");

    puts("== ccmp/ccmn (cond true with Z=1, false with Z=0)\n");
    TP("ccmp x,x eq #5 Z1", P64, 0x40000000, "ccmp %[a], %[b], #5, eq");
    TP("ccmp x,x eq #5 Z0", P64, 0, "ccmp %[a], %[b], #5, eq");
    TP("ccmp x,#31 eq #a Z1", P64, 0x40000000, "ccmp %[a], #31, #0xa, eq");
    TP("ccmn x,x ne #f Z1", P64, 0x40000000, "ccmn %[a], %[b], #0xf, ne");
    TP("ccmn x,#1 ne #3 Z0", P64, 0, "ccmn %[a], #1, #3, ne");
    TP("ccmp w,w ge #0 Z1", P32, 0x40000000, "ccmp %w[a], %w[b], #0, ge");
    TP("ccmn w,#0 lt #8 N1", P32, 0x80000000, "ccmn %w[a], #0, #8, lt");
}

static void muldiv(void)
{
    static const u64 D[4][2] = {
        { 100, 7 },
        { 0xffffffffffffff9cUL, 7 },            /* -100 / 7 */
        { 0x8000000000000000UL, 0xffffffffffffffffUL }, /* INT64_MIN / -1 */
        { 0x1234567890abcdefUL, 0 },            /* / 0 */
    };
    static const u64 D32[4][2] = {
        { 0xffffffff80000000UL, 0x00000000ffffffffUL }, /* INT32_MIN / -1 */
        { 0x00000000fffffff9UL, 2 },
        { 0x12345678UL, 0x100000000UL },         /* W divisor is 0 */
        { 0xffffffffUL, 0x10UL },
    };
    puts("== multiply\n");
    TP("mul x", P64, 0, "mul %[r], %[a], %[b]");
    TP("madd x (+a)", P64, 0, "madd %[r], %[a], %[b], %[a]");
    TP("msub x (-b)", P64, 0, "msub %[r], %[a], %[a], %[b]");
    TP("mneg x", P64, 0, "mneg %[r], %[a], %[b]");
    TP("madd w", P32, 0, "madd %w[r], %w[a], %w[b], %w[b]");
    TP("msub w", P32, 0, "msub %w[r], %w[a], %w[b], %w[a]");
    TP("smaddl", P32, 0, "smaddl %[r], %w[a], %w[b], %[a]");
    TP("smsubl", P32, 0, "smsubl %[r], %w[a], %w[b], %[b]");
    TP("umaddl", P32, 0, "umaddl %[r], %w[a], %w[b], %[a]");
    TP("umsubl", P32, 0, "umsubl %[r], %w[a], %w[b], %[b]");
    TP("smull", P32, 0, "smull %[r], %w[a], %w[b]");
    TP("umull", P32, 0, "umull %[r], %w[a], %w[b]");
    TP("smulh", P64, 0, "smulh %[r], %[a], %[b]");
    TP("umulh", P64, 0, "umulh %[r], %[a], %[b]");
    TP("smulh (b=a)", P64, 0, "smulh %[r], %[b], %[b]");
    puts("== divide (incl. /0 and MIN/-1)\n");
    TP("sdiv x", D, 0, "sdiv %[r], %[a], %[b]");
    TP("udiv x", D, 0, "udiv %[r], %[a], %[b]");
    TP("sdiv w", D32, 0, "sdiv %w[r], %w[a], %w[b]");
    TP("udiv w", D32, 0, "udiv %w[r], %w[a], %w[b]");
}

static void bits(void)
{
    static const u64 B[4][2] = {
        { 0, 0 },
        { 0x0000000000000001UL, 0xffffffffffffffffUL },
        { 0x00f0000000000000UL, 0x8000000000000000UL },
        { 0x0123456789abcdefUL, 0xfff0000000000001UL },
    };
    puts("== clz/cls/rbit/rev\n");
    TP("clz x a", B, 0, "clz %[r], %[a]");
    TP("clz x b", B, 0, "clz %[r], %[b]");
    TP("cls x a", B, 0, "cls %[r], %[a]");
    TP("cls x b", B, 0, "cls %[r], %[b]");
    TP("clz w b", B, 0, "clz %w[r], %w[b]");
    TP("cls w a", B, 0, "cls %w[r], %w[a]");
    TP("cls w b", B, 0, "cls %w[r], %w[b]");
    TP("rbit x", B, 0, "rbit %[r], %[a]");
    TP("rbit w", B, 0, "rbit %w[r], %w[a]");
    TP("rev x", B, 0, "rev %[r], %[a]");
    TP("rev w", B, 0, "rev %w[r], %w[a]");
    TP("rev16 x", B, 0, "rev16 %[r], %[a]");
    TP("rev16 w", B, 0, "rev16 %w[r], %w[a]");
    TP("rev32 x", B, 0, "rev32 %[r], %[a]");
}

static void crc(void)
{
    static const u64 K[4][2] = {
        { 0, 0 },
        { 0xffffffffUL, 0 },
        { 0x12345678UL, 0x0123456789abcdefUL },
        { 0xdeadbeefcafef00dUL, 0xffffffffffffffffUL },
    };
    puts("== crc32 / crc32c (acc, data)\n");
    TP("crc32b", K, 0, "crc32b %w[r], %w[a], %w[b]");
    TP("crc32h", K, 0, "crc32h %w[r], %w[a], %w[b]");
    TP("crc32w", K, 0, "crc32w %w[r], %w[a], %w[b]");
    TP("crc32x", K, 0, "crc32x %w[r], %w[a], %[b]");
    TP("crc32cb", K, 0, "crc32cb %w[r], %w[a], %w[b]");
    TP("crc32ch", K, 0, "crc32ch %w[r], %w[a], %w[b]");
    TP("crc32cw", K, 0, "crc32cw %w[r], %w[a], %w[b]");
    TP("crc32cx", K, 0, "crc32cx %w[r], %w[a], %[b]");
    /* a string's CRC-32 (IEEE, as zlib: init ~0, final ~) and CRC-32C */
    const char *s = "123456789";
    u32 c1 = 0xffffffff, c2 = 0xffffffff;
    for (int i = 0; s[i]; i++) {
        __asm__("crc32b %w0, %w0, %w1" : "+r"(c1) : "r"((u32)(u8)s[i]));
        __asm__("crc32cb %w0, %w0, %w1" : "+r"(c2) : "r"((u32)(u8)s[i]));
    }
    printf("crc32(\"123456789\")=%08x crc32c=%08x\n", ~c1, ~c2);
}

static void flagm(void)
{
    puts("== FEAT_FlagM / FlagM2 (v8.4/v8.5)\n");
    TP("cfinv", P64, C_SET, "cfinv");
    TP("rmif x,#60,#0xf", P64, 0, "rmif %[b], #60, #0xf");
    TP("rmif x,#1,#0x5", P64, ALL_SET, "rmif %[a], #1, #0x5");
    TP("setf8", P32, 0, "setf8 %w[a]");
    TP("setf16", P32, C_SET, "setf16 %w[b]");
    TP("axflag", P64, 0x50000000, "axflag");
    TP("xaflag", P64, 0x60000000, "xaflag");
}

int main(void)
{
    puts("isa-alu: integer data processing\n");
    addsub();
    logical();
    moves();
    bitfield();
    varshift();
    conditions();
    muldiv();
    bits();
    crc();
    flagm();
    puts("isa-alu: done\n");
    return 0;
}
