/*
 * printf's %f, %e and %g for the simd-* guests (built with FP/SIMD; lib.c calls this under
 * RT_SIMD). Exact: the double's binary value m * 2^e is turned into its full decimal expansion
 * with integer arithmetic (m << e, or m * 5^-e with the point moved -e places), then rounded to
 * nearest, ties to even, as glibc prints in the default rounding mode. No FP arithmetic is
 * used, so what a guest prints depends only on the bits it computed.
 */
#include "rt.h"

#define LIMBS 84            /* 2^53 * 5^1074 < 2^2548: 80 limbs of 32 bits, with room */
#define MAX_DIGITS 800      /* 5^1074 * 2^53 has 767 decimal digits, 2^1024 has 309 */

/* The exact decimal digits of the value (most significant first, no leading zeros; "0" for
 * zero) into d; returns their count and sets *scale so that value = digits * 10^scale. */
static int exact_digits(u64 bits, char *d, int *scale)
{
    u32 n[LIMBS] = { 0 };
    int len = 2, e2 = (int)((bits >> 52) & 0x7ff);
    u64 m = bits & ((1UL << 52) - 1);
    if (e2)
        m |= 1UL << 52;
    e2 = (e2 ? e2 : 1) - 1075;
    n[0] = (u32)m;
    n[1] = (u32)(m >> 32);
    *scale = e2 < 0 ? e2 : 0;
    for (int k = 0; k < (e2 < 0 ? -e2 : e2); k++) { /* times 5 (e2 < 0) or times 2 */
        u64 carry = 0;
        for (int i = 0; i < len; i++) {
            u64 t = (u64)n[i] * (e2 < 0 ? 5 : 2) + carry;
            n[i] = (u32)t;
            carry = t >> 32;
        }
        if (carry)
            n[len++] = (u32)carry;
    }
    char rev[MAX_DIGITS];
    int count = 0;
    for (;;) { /* nine digits at a time: divide by 10^9 */
        while (len > 1 && n[len - 1] == 0)
            len--;
        if (len == 1 && n[0] == 0)
            break;
        u64 rem = 0;
        for (int i = len - 1; i >= 0; i--) {
            u64 t = (rem << 32) | n[i];
            n[i] = (u32)(t / 1000000000);
            rem = t % 1000000000;
        }
        for (int k = 0; k < 9; k++, rem /= 10)
            rev[count++] = (char)('0' + rem % 10);
    }
    while (count > 1 && rev[count - 1] == '0')
        count--;
    if (count == 0)
        rev[count++] = '0';
    for (int i = 0; i < count; i++)
        d[i] = rev[count - 1 - i];
    return count;
}

/* Keeps the first `keep` digits (keep may be <= 0 or beyond the end), rounding the rest to
 * nearest, ties to even; returns the new count (one more when 99.. carries into 100..). */
static int round_digits(char *d, int count, int keep)
{
    if (keep >= count)
        return count;
    int up;
    if (keep < 0)
        up = 0;
    else {
        int first = d[keep] - '0', rest = 0;
        for (int i = keep + 1; i < count; i++)
            rest |= d[i] != '0';
        int odd = keep > 0 && ((d[keep - 1] - '0') & 1);
        up = first > 5 || (first == 5 && (rest || odd));
    }
    if (keep <= 0) {
        d[0] = up ? '1' : '0';
        return up ? -1 : 0; /* -1: a single 1 one place above the kept ones */
    }
    for (int i = keep - 1; up && i >= 0; i--) {
        if (d[i] == '9')
            d[i] = '0';
        else {
            d[i]++;
            up = 0;
        }
    }
    if (up) {
        for (int i = keep; i > 0; i--)
            d[i] = d[i - 1];
        d[0] = '1';
        return keep + 1;
    }
    return keep;
}

static void put_exp(char *out, int *o, int x)
{
    out[(*o)++] = 'e';
    out[(*o)++] = x < 0 ? '-' : '+';
    if (x < 0)
        x = -x;
    if (x >= 100)
        out[(*o)++] = (char)('0' + x / 100);
    out[(*o)++] = (char)('0' + x / 10 % 10);
    out[(*o)++] = (char)('0' + x % 10);
}

/* %g: trailing zeros of the fraction go, and the point with them when nothing is left. */
static void strip_zeros(char *out, int *o)
{
    while (out[*o - 1] == '0')
        (*o)--;
    if (out[*o - 1] == '.')
        (*o)--;
}

/* Digit i of the value whose digits are d[0..count) with d[0] at decimal position top (10^top). */
static char digit_at(const char *d, int count, int top, int pos)
{
    int i = top - pos;
    return i >= 0 && i < count ? d[i] : '0';
}

void rt_put_double(double v, int conv, int width, int prec, int zero, int left)
{
    u64 bits;
    __builtin_memcpy(&bits, &v, 8);
    char out[MAX_DIGITS + 32], d[MAX_DIGITS + 2];
    int o = 0, neg = (int)(bits >> 63);
    if (prec > 400) /* out[] holds 309 integer digits and 400 decimals */
        prec = 400;
    u64 mag = bits & ~(1UL << 63);
    if (neg)
        out[o++] = '-';
    if (mag >= 0x7ff0000000000000UL) {
        const char *s = mag == 0x7ff0000000000000UL ? "inf" : "nan";
        while (*s)
            out[o++] = *s++;
        zero = 0;
    } else {
        int scale, count = exact_digits(mag, d, &scale);
        int top = mag ? count - 1 + scale : 0; /* decimal position of the first digit */
        int sci = conv == 'e', strip = 0;
        if (conv == 'g') {
            int p = prec ? prec : 1;
            char t[MAX_DIGITS + 2];
            for (int i = 0; i < count; i++)
                t[i] = d[i];
            int x = top + (round_digits(t, count, p) > p ? 1 : 0);
            sci = !(x < p && x >= -4);
            prec = sci ? p - 1 : p - 1 - x;
            strip = 1;
        }
        if (sci) {
            int n = round_digits(d, count, prec + 1);
            if (n > prec + 1) /* 9.99 rounded up to 10.0 */
                top++;
            out[o++] = d[0];
            if (prec)
                out[o++] = '.';
            for (int i = 1; i <= prec; i++)
                out[o++] = i < n ? d[i] : '0';
            if (strip && prec)
                strip_zeros(out, &o);
            put_exp(out, &o, top);
        } else {
            int n = round_digits(d, count, top + 1 + prec);
            if (n == -1) { /* rounded up to one unit of the last place kept */
                d[0] = '1';
                n = 1;
                top = -prec;
            } else if (n == 0) {
                n = 1;
                d[0] = '0';
                top = 0;
            } else if (n > top + 1 + prec) /* 9.99 rounded up to 10.0 */
                top++;
            for (int pos = top > 0 ? top : 0; pos >= 0; pos--)
                out[o++] = digit_at(d, n, top, pos);
            if (prec)
                out[o++] = '.';
            for (int pos = -1; pos >= -prec; pos--)
                out[o++] = digit_at(d, n, top, pos);
            if (strip && prec)
                strip_zeros(out, &o);
        }
    }
    int pad = width > o ? width - o : 0, i = 0;
    if (left) {
        for (; i < o; i++)
            putc(out[i]);
        for (; pad > 0; pad--)
            putc(' ');
        return;
    }
    if (zero && neg)
        putc(out[i++]); /* zeros go after the sign */
    for (; pad > 0; pad--)
        putc(zero ? '0' : ' ');
    for (; i < o; i++)
        putc(out[i]);
}
