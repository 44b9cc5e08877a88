/*
 * simd-printf: the runtime's printf of doubles (%f, %e, %g with width, precision, '-' and '0';
 * runtime/fmt-double.c) on values given as bit patterns: zeros, denormals, the largest double,
 * ties that round to even, powers of ten, infinities and NaNs. No FP arithmetic: the doubles go
 * through the varargs FP registers only (STR Q in the prologue, LDR D). Each line shows the bits,
 * so the expected text can be checked against any C library's printf (glibc prints the same).
 */
#include "rt.h"

static const u64 values[] = {
    0x0000000000000000UL, /* 0 */
    0x8000000000000000UL, /* -0 */
    0x3ff0000000000000UL, /* 1 */
    0xbff8000000000000UL, /* -1.5 */
    0x400921fb54442d18UL, /* pi */
    0x4005bf0a8b145769UL, /* e */
    0x3fb999999999999aUL, /* 0.1 */
    0x3fd5555555555555UL, /* 1/3 */
    0x4004000000000000UL, /* 2.5: tie to even at 0 digits */
    0x400c000000000000UL, /* 3.5 */
    0x3f847ae147ae147bUL, /* 0.01 */
    0x3ff0000000000001UL, /* 1 + ulp */
    0x3fefffffffffffffUL, /* 1 - ulp/2 */
    0x40c81c8000000000UL, /* 12345 */
    0x4341c37937e08000UL, /* 1e16 */
    0x44b52d02c7e14af6UL, /* 1e23 */
    0x7fefffffffffffffUL, /* DBL_MAX */
    0x0010000000000000UL, /* DBL_MIN */
    0x0000000000000001UL, /* smallest denormal */
    0x000fffffffffffffUL, /* largest denormal */
    0x3eb0c6f7a0b5ed8dUL, /* 1e-6 */
    0x3ee4f8b588e368f1UL, /* 1e-5 */
    0x412e847fffffffffUL, /* just under 1e6 */
    0x412e848000000000UL, /* 1e6 */
    0x3fe0000000000000UL, /* 0.5 */
    0x3f50624dd2f1a9fcUL, /* 0.001 */
    0x7ff0000000000000UL, /* inf */
    0xfff0000000000000UL, /* -inf */
    0x7ff8000000000000UL, /* nan */
    0xfff8000000000001UL, /* -nan with payload */
};

static double from_bits(u64 b)
{
    double d;
    __builtin_memcpy(&d, &b, 8);
    return d;
}

int main(void)
{
    puts("simd-printf: %f %e %g of doubles given as bits\n");
    for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++) {
        double v = from_bits(values[i]);
        printf("%016lx  %f  %e  %g\n", values[i], v, v, v);
        printf("%016lx  [%.0f] [%.1f] [%.3e] [%.0e] [%.10g] [%.17g] [%.1g]\n", values[i], v, v, v, v, v, v, v);
        printf("%016lx  [%12.4f] [%-12.2e] [%012.3f] [%-10g] [%010g]\n", values[i], v, v, v, v, v);
    }
    printf("big: %.0f\n", from_bits(0x7fefffffffffffffUL));
    printf("tiny: %.30e\n", from_bits(0x0000000000000001UL));
    printf("mixed %d %f %s %e %x\n", 7, from_bits(0x3ff0000000000000UL), "str", from_bits(0x4059000000000000UL), 255);
    return 0;
}
