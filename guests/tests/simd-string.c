/*
 * simd-string: the string and memory functions of a small libc written with Advanced SIMD
 * (NEON intrinsics, the way glibc's and bionic's AArch64 routines work: aligned 16-byte blocks,
 * CMEQ, SHRN to a nibble mask, UMAXP/ADDP/UMAXV, LD1 of four registers...), checked against plain
 * C versions over every alignment and many lengths, plus auto-vectorised loops and saturating
 * and polynomial intrinsics. Each function prints its case count, mismatches and a checksum of
 * its results; the first mismatches are printed in full.
 *
 * The SIMD routines read whole aligned 16-byte blocks, so they may read past the end of an
 * object but never into another granule or page: with MTE tag checks on (the last part), a
 * neighbour with a different tag is never touched, as with glibc's __strlen_mte.
 */
#include "rt.h"
#include <arm_neon.h>

#define BUF ((u8 *)(TEST_BASE + 0x1000))
#define DST ((u8 *)(TEST_BASE + 0x3000))
#define BUF_SIZE 0x1000

static u64 rng_state = 0x243f6a8885a308d3UL;

static u32 rnd(void)
{
    rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
    return (u32)(rng_state >> 33);
}

/* ---- plain C references ------------------------------------------------------------------ */

static size_t ref_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static const u8 *ref_memchr(const u8 *s, int c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == (u8)c)
            return s + i;
    return NULL;
}

static int ref_memcmp(const u8 *a, const u8 *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static const char *ref_strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return s;
        if (!*s)
            return NULL;
    }
}

/* ---- SIMD versions ----------------------------------------------------------------------- */

/* One bit per byte-nibble: bit 4i set when byte i of the comparison is all ones (CMEQ + SHRN). */
static inline u64 nibble_mask(uint8x16_t eq)
{
    return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(eq), 4)), 0);
}

static size_t simd_strlen(const char *s)
{
    const u8 *p = (const u8 *)((uintptr_t)s & ~15UL);
    unsigned skip = (uintptr_t)s & 15;
    u64 m = nibble_mask(vceqzq_u8(vld1q_u8(p))) >> (skip * 4);
    if (m)
        return (size_t)__builtin_ctzl(m) >> 2;
    for (p += 16;; p += 16) {
        uint8x16_t z = vceqzq_u8(vld1q_u8(p));
        if (vmaxvq_u8(z)) /* UMAXV: any zero byte in the block? */
            return (size_t)(p - (const u8 *)s) + ((size_t)__builtin_ctzl(nibble_mask(z)) >> 2);
    }
}

static const u8 *simd_memchr(const u8 *s, int c, size_t n)
{
    if (n == 0)
        return NULL;
    const u8 *p = (const u8 *)((uintptr_t)s & ~15UL);
    const u8 *end = s + n;
    uint8x16_t want = vdupq_n_u8((u8)c);
    unsigned skip = (uintptr_t)s & 15;
    u64 m = nibble_mask(vceqq_u8(vld1q_u8(p), want)) >> (skip * 4) << (skip * 4);
    for (;;) {
        if (m) {
            const u8 *hit = p + (__builtin_ctzl(m) >> 2);
            return hit < end ? hit : NULL;
        }
        p += 16;
        if (p >= end)
            return NULL;
        /* ADDP of the comparison with itself folds 16 bytes to 8: a quick any-match test. */
        uint8x16_t eq = vceqq_u8(vld1q_u8(p), want);
        if (vgetq_lane_u64(vreinterpretq_u64_u8(vpaddq_u8(eq, eq)), 0))
            m = nibble_mask(eq);
    }
}

static int simd_memcmp(const u8 *a, const u8 *b, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint8x16_t ne = vmvnq_u8(vceqq_u8(vld1q_u8(a + i), vld1q_u8(b + i)));
        u64 m = nibble_mask(ne);
        if (m) {
            size_t k = i + (__builtin_ctzl(m) >> 2);
            return a[k] < b[k] ? -1 : 1;
        }
    }
    for (; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static void simd_memcpy(u8 *d, const u8 *s, size_t n)
{
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        vst1q_u8_x4(d + i, vld1q_u8_x4(s + i)); /* LD1/ST1 of four registers */
    for (; i + 16 <= n; i += 16)
        vst1q_u8(d + i, vld1q_u8(s + i));
    if (i + 8 <= n) {
        vst1_u8(d + i, vld1_u8(s + i));
        i += 8;
    }
    for (; i < n; i++)
        d[i] = s[i];
}

static const char *simd_strchr(const char *s, int c)
{
    const u8 *p = (const u8 *)((uintptr_t)s & ~15UL);
    uint8x16_t want = vdupq_n_u8((u8)c);
    unsigned skip = (uintptr_t)s & 15;
    for (int first = 1;; p += 16, first = 0) {
        uint8x16_t v = vld1q_u8(p);
        /* A byte that is c or NUL: CMEQ both, ORR. */
        u64 m = nibble_mask(vorrq_u8(vceqq_u8(v, want), vceqzq_u8(v)));
        if (first)
            m = m >> (skip * 4) << (skip * 4);
        if (m) {
            const char *hit = (const char *)p + (__builtin_ctzl(m) >> 2);
            return *hit == (char)c ? hit : NULL;
        }
    }
}

/* ---- drivers ----------------------------------------------------------------------------- */

static void fill_text(u8 *p, size_t n, int zeros)
{
    for (size_t i = 0; i < n; i++) {
        u32 r = rnd();
        p[i] = (u8)(zeros && (r & 31) == 0 ? 0 : 'a' + (r >> 8) % 26);
    }
}

static void report(const char *name, u32 cases, u32 bad, u64 sum)
{
    printf("%-8s %5u cases, %u mismatches, checksum %016lx\n", name, cases, bad, sum);
}

static u64 mix(u64 sum, u64 v)
{
    return (sum ^ v) * 0x100000001b3UL;
}

static void test_strlen(void)
{
    u32 cases = 0, bad = 0;
    u64 sum = 0;
    for (unsigned align = 0; align < 16; align++) {
        for (unsigned len = 0; len < 140; len += 1 + len / 16) {
            fill_text(BUF, 256, 0);
            BUF[align + len] = 0;
            size_t a = simd_strlen((const char *)BUF + align), b = ref_strlen((const char *)BUF + align);
            cases++;
            sum = mix(sum, a);
            if (a != b && bad++ < 3)
                printf("  strlen align %u len %u: simd %lu, C %lu\n", align, len, a, b);
        }
    }
    report("strlen", cases, bad, sum);
}

static void test_memchr(void)
{
    u32 cases = 0, bad = 0;
    u64 sum = 0;
    for (unsigned align = 0; align < 16; align++) {
        for (unsigned len = 0; len < 100; len += 1 + len / 8) {
            fill_text(BUF, 256, 1);
            int c = rnd() & 1 ? 0 : 'a' + rnd() % 26;
            const u8 *a = simd_memchr(BUF + align, c, len), *b = ref_memchr(BUF + align, c, len);
            cases++;
            sum = mix(sum, a ? (u64)(a - BUF) : 0xffff);
            if (a != b && bad++ < 3)
                printf("  memchr align %u len %u c %d: simd %p, C %p\n", align, len, c, (u64)a, (u64)b);
        }
    }
    report("memchr", cases, bad, sum);
}

static void test_memcmp(void)
{
    u32 cases = 0, bad = 0;
    u64 sum = 0;
    for (unsigned align = 0; align < 16; align++) {
        for (unsigned len = 0; len < 100; len += 1 + len / 8) {
            fill_text(BUF, 256, 0);
            for (unsigned i = 0; i < 128; i++)
                BUF[1024 + i] = BUF[align + i];
            if (len && rnd() % 4)
                BUF[1024 + rnd() % len] ^= (u8)(1 + rnd() % 255);
            int a = simd_memcmp(BUF + align, BUF + 1024, len), b = ref_memcmp(BUF + align, BUF + 1024, len);
            cases++;
            sum = mix(sum, (u64)(a + 1));
            if (a != b && bad++ < 3)
                printf("  memcmp align %u len %u: simd %d, C %d\n", align, len, a, b);
        }
    }
    report("memcmp", cases, bad, sum);
}

static void test_memcpy(void)
{
    u32 cases = 0, bad = 0;
    u64 sum = 0;
    for (unsigned align = 0; align < 16; align++) {
        for (unsigned len = 0; len < 300; len += 1 + len / 4) {
            fill_text(BUF, 512, 1);
            for (unsigned i = 0; i < 512; i++)
                DST[i] = 0xee;
            simd_memcpy(DST + (align ^ 5), BUF + align, len);
            int ok = ref_memcmp(DST + (align ^ 5), BUF + align, len) == 0 && DST[(align ^ 5) + len] == 0xee &&
                     ((align ^ 5) == 0 || DST[(align ^ 5) - 1] == 0xee);
            cases++;
            sum = mix(sum, DST[(align ^ 5) + len / 2]);
            if (!ok && bad++ < 3)
                printf("  memcpy align %u len %u: wrong bytes\n", align, len);
        }
    }
    report("memcpy", cases, bad, sum);
}

static void test_strchr(void)
{
    u32 cases = 0, bad = 0;
    u64 sum = 0;
    for (unsigned align = 0; align < 16; align++) {
        for (unsigned len = 0; len < 100; len += 1 + len / 8) {
            fill_text(BUF, 256, 0);
            BUF[align + len] = 0;
            int c = rnd() % 4 == 0 ? 0 : 'a' + rnd() % 26;
            const char *a = simd_strchr((const char *)BUF + align, c), *b = ref_strchr((const char *)BUF + align, c);
            cases++;
            sum = mix(sum, a ? (u64)(a - (const char *)BUF) : 0xffff);
            if (a != b && bad++ < 3)
                printf("  strchr align %u len %u c %d: simd %p, C %p\n", align, len, c, (u64)a, (u64)b);
        }
    }
    report("strchr", cases, bad, sum);
}

/* ---- auto-vectorised loops and other intrinsics ------------------------------------------ */

__attribute__((optimize("O3"), noinline)) static u32 byte_sum(const u8 *p, size_t n)
{
    u32 s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

__attribute__((optimize("O3"), noinline)) static void saxpy_i16(i16 *y, const i16 *x, i16 a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = (i16)(y[i] + a * x[i]);
}

__attribute__((optimize("O3"), noinline)) static void to_upper(u8 *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 : p[i];
}

static void test_vectorised(void)
{
    fill_text(BUF, 1000, 1);
    u32 ref = 0;
    for (size_t i = 0; i < 1000; i++)
        ref += BUF[i];
    printf("byte_sum 1000 bytes: %u (C %u)\n", byte_sum(BUF, 1000), ref);

    i16 *x = (i16 *)DST, *y = (i16 *)(DST + 0x400);
    for (int i = 0; i < 300; i++) {
        x[i] = (i16)(rnd() & 0xffff);
        y[i] = (i16)(rnd() & 0xffff);
    }
    saxpy_i16(y, x, -1234, 300);
    u64 sum = 0;
    for (int i = 0; i < 300; i++)
        sum = mix(sum, (u16)y[i]);
    printf("saxpy_i16 300 lanes: checksum %016lx\n", sum);

    to_upper(BUF, 77);
    BUF[77] = 0;
    for (int i = 0; i < 77; i++)
        if (!BUF[i])
            BUF[i] = '_';
    printf("to_upper: %s\n", (const char *)BUF);
}

static void test_saturating(void)
{
    int8x16_t a = vcombine_s8(vcreate_s8(0x807f7f0180ff0102UL), vcreate_s8(0x0040c0407fff8001UL));
    int8x16_t b = vcombine_s8(vcreate_s8(0x80017f7f80010203UL), vcreate_s8(0x7f4040c07f7f8080UL));
    uint64_t fpsr_before, fpsr_after;
    __asm__ volatile("msr fpsr, xzr\n mrs %0, fpsr" : "=r"(fpsr_before));
    int8x16_t s = vqaddq_s8(a, b);
    int16x8_t w = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    int16x8_t h = vqdmulhq_s16(w, vdupq_n_s16(-32768));
    int8x8_t n = vqmovn_s16(vshlq_n_s16(w, 2));
    uint8x8_t un = vqmovun_s16(w);
    int32x4_t dot = vdotq_s32(vdupq_n_s32(7), a, b);
    __asm__ volatile("mrs %0, fpsr" : "=r"(fpsr_after));
    printf("sqadd   %016lx%016lx\n", vgetq_lane_u64(vreinterpretq_u64_s8(s), 1), vgetq_lane_u64(vreinterpretq_u64_s8(s), 0));
    printf("smull   %016lx%016lx\n", vgetq_lane_u64(vreinterpretq_u64_s16(w), 1), vgetq_lane_u64(vreinterpretq_u64_s16(w), 0));
    printf("sqdmulh %016lx%016lx\n", vgetq_lane_u64(vreinterpretq_u64_s16(h), 1), vgetq_lane_u64(vreinterpretq_u64_s16(h), 0));
    printf("sqxtn   %016lx  sqxtun %016lx\n", vget_lane_u64(vreinterpret_u64_s8(n), 0), vget_lane_u64(vreinterpret_u64_u8(un), 0));
    printf("sdot    %016lx%016lx\n", vgetq_lane_u64(vreinterpretq_u64_s32(dot), 1), vgetq_lane_u64(vreinterpretq_u64_s32(dot), 0));
    printf("fpsr    %08lx -> %08lx (QC is bit 27)\n", fpsr_before, fpsr_after);
}

/* With synchronous tag checks: strlen of strings that end just before a granule whose tag
 * differs from the string's. The SIMD version reads only the string's own granules. */
static void test_mte(void)
{
    u8 *area = (u8 *)(TEST_BASE + 0x6000);
    tag_range((u64)area, 256); /* tag 0 */
    u64 tagged = WITH_TAG(area, 3);
    for (int g = 0; g < 4; g++)
        stg(tagged + 16 * g); /* granules 0-3: tag 3, granule 4 keeps tag 0 */
    mte_config(1, 0, 1, 1);
    u32 results = 0;
    for (unsigned start = 0; start < 64; start += 5) {
        char *s = (char *)(tagged + start);
        for (unsigned i = start; i < 63; i++)
            ((char *)tagged)[i] = (char)('A' + i % 26);
        ((char *)tagged)[63] = 0;
        expect_fault();
        size_t len = simd_strlen(s);
        if (fault.taken) {
            report_fault("strlen near a tag boundary");
            break;
        }
        results = results * 31 + (u32)len;
    }
    mte_config(0, 0, 1, 1);
    printf("mte strlen near a differently tagged granule: no fault, results %08x\n", results);
}

int main(void)
{
    puts("simd-string: SIMD libc routines against plain C\n");
    test_strlen();
    test_memchr();
    test_memcmp();
    test_memcpy();
    test_strchr();
    test_vectorised();
    test_saturating();
    test_mte();
    return 0;
}
