/*
 * simd-numeric: numeric kernels in double and float as a compiler builds them with FP/SIMD
 * (scalar FADD/FMUL/FDIV/FSQRT/FMADD, conversions, and -O3 auto-vectorised loops with FMLA,
 * FADDP, FMAXNMV...): dot products, a matrix product, Newton iterations for square roots and
 * reciprocals, series for pi and e, Horner polynomials, a Kahan sum, conversions to and from
 * integers with their rounding, and the FPSR flags the work leaves. Results are printed with
 * printf's exact %.17g/%e/%f and as bit patterns, so any difference in the last bit shows.
 */
#include "rt.h"

static u64 bits_of(double d)
{
    u64 b;
    __builtin_memcpy(&b, &d, 8);
    return b;
}

static u32 bits_of_f(float f)
{
    u32 b;
    __builtin_memcpy(&b, &f, 4);
    return b;
}

static void show(const char *name, double d)
{
    printf("%-22s %.17g  %016lx\n", name, d, bits_of(d));
}

static void show_f(const char *name, float f)
{
    printf("%-22s %.9g  %08x\n", name, (double)f, bits_of_f(f));
}

static u64 fpsr_read(void)
{
    u64 v;
    __asm__ volatile("mrs %0, fpsr" : "=r"(v) : : "memory");
    return v;
}

static void fpsr_clear(void)
{
    __asm__ volatile("msr fpsr, xzr" : : : "memory");
}

static double sqrt_d(double x)
{
    double r;
    __asm__("fsqrt %d0, %d1" : "=w"(r) : "w"(x));
    return r;
}

static float sqrt_f(float x)
{
    float r;
    __asm__("fsqrt %s0, %s1" : "=w"(r) : "w"(x));
    return r;
}

#define N 203

static double xd[N], yd[N];
static float xf[N], yf[N];

__attribute__((optimize("O3"), noinline)) static double dot_d(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

__attribute__((optimize("O3", "fast-math"), noinline)) static float dot_f_fast(const float *a, const float *b, int n)
{
    float s = 0; /* reassociated: vector FMLA lanes, then a pairwise reduction */
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

__attribute__((optimize("O3"), noinline)) static void axpy_f(float *y, const float *x, float a, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

__attribute__((optimize("O3", "fast-math"), noinline)) static float max_abs_f(const float *a, int n)
{
    float m = 0;
    for (int i = 0; i < n; i++)
        m = __builtin_fmaxf(m, __builtin_fabsf(a[i]));
    return m;
}

static void matmul(double c[6][6], const double a[6][6], const double b[6][6])
{
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            double s = 0;
            for (int k = 0; k < 6; k++)
                s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
}

static void kernels_double(void)
{
    for (int i = 0; i < N; i++) {
        xd[i] = (double)(i * 37 % 101 - 50) / 7.0;
        yd[i] = 1.0 / (double)(i + 1);
    }
    show("dot", dot_d(xd, yd, N));

    double a[6][6], b[6][6], c[6][6];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            a[i][j] = 1.0 / (i + j + 1); /* Hilbert matrix */
            b[i][j] = (i == j) ? 2.0 : -0.25 * (i - j);
        }
    matmul(c, a, b);
    double trace = 0;
    for (int i = 0; i < 6; i++)
        trace += c[i][i];
    show("hilbert*b trace", trace);
    show("hilbert*b c[5][0]", c[5][0]);

    double x = 1;
    for (int k = 0; k < 6; k++)
        x = 0.5 * (x + 2 / x);
    show("newton sqrt(2)", x);
    show("fsqrt(2)", sqrt_d(2));
    double r = 0.1;
    for (int k = 0; k < 8; k++)
        r = r * (2 - 7 * r); /* reciprocal of 7 */
    show("newton 1/7", r);

    double pi = 0; /* Machin: 16 atan(1/5) - 4 atan(1/239) */
    double p5 = 1.0 / 5, p239 = 1.0 / 239;
    for (int k = 0; k < 30; k++) {
        double s = (k & 1) ? -1.0 : 1.0;
        pi += s * (16 * p5 - 4 * p239) / (2 * k + 1);
        p5 /= 25;
        p239 /= 239.0 * 239.0;
    }
    show("machin pi", pi);
    double e = 1, term = 1;
    for (int k = 1; k < 20; k++) {
        term /= k;
        e += term;
    }
    show("series e", e);

    double sum = 0, comp = 0, naive = 0; /* Kahan: 0.1 added 10000 times */
    for (int k = 0; k < 10000; k++) {
        double yk = 0.1 - comp;
        double t = sum + yk;
        comp = (t - sum) - yk;
        sum = t;
        naive += 0.1;
    }
    show("kahan 10000 * 0.1", sum);
    show("naive 10000 * 0.1", naive);
    show("fma(0.1, 10, -1)", __builtin_fma(0.1, 10, -1));
    printf("printf edges: %.10f, %e, %g\n", 0.0, 1e-300 * 1e-10, 123456789.0 * 1000);
}

static void kernels_float(void)
{
    for (int i = 0; i < N; i++) {
        xf[i] = (float)(i % 17) * 0.375f - 3.0f;
        yf[i] = (float)(i % 5) + 0.1f;
    }
    show_f("dot_f (fast-math)", dot_f_fast(xf, yf, N));
    axpy_f(yf, xf, -1.5f, N);
    show_f("axpy y[7]", yf[7]);
    show_f("axpy y[200]", yf[200]);
    show_f("max |y|", max_abs_f(yf, N));
    float x = 1;
    for (int k = 0; k < 5; k++)
        x = 0.5f * (x + 3 / x);
    show_f("newton sqrt(3) f", x);
    show_f("fsqrt(3) f", sqrt_f(3));
    float h = 0; /* Horner: sum 1/k! for k < 12 */
    for (int k = 11; k >= 0; k--) {
        float f = 1;
        for (int j = 2; j <= k; j++)
            f *= (float)j;
        h = h * 1.0f + 1.0f / f;
    }
    show_f("horner e f", h);
    show_f("float(1/3)", (float)(1.0 / 3.0));
    show("double(0.1f)", (double)0.1f);
}

static void conversions(void)
{
    static const double vals[] = { 2.5, -2.5, 3.5, -0.5, 1e10, -1e19, 4294967295.75, 1e300 };
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        double v = *(volatile const double *)&vals[i]; /* converted at run time, not folded */
        fpsr_clear();
        volatile i32 w = (i32)v;
        volatile i64 l = (i64)v;
        volatile u32 uw = (u32)v;
        volatile i64 rn;
        __asm__ volatile("fcvtns %0, %d1" : "=r"(rn) : "w"(v)); /* to nearest, ties to even */
        u64 fl = fpsr_read();
        printf("%-14g (i32)%d (i64)%ld (u32)%u rint %ld  fpsr %08lx\n", v, (i32)w, (i64)l, (u32)uw, (i64)rn, fl);
    }
    i64 big = 9007199254740993L; /* 2^53 + 1: not representable */
    show("(double)(2^53+1)", (double)big);
    show_f("(float)16777217", (float)16777217);
    show("(double)(u64)-1", (double)(u64)-1);
    fpsr_clear();
    volatile double z = 0, one = 1, tiny = 1e-300, inf, nan, under;
    inf = one / z;
    u64 dz = fpsr_read();
    fpsr_clear();
    nan = z / z;
    u64 inv = fpsr_read();
    fpsr_clear();
    under = tiny * tiny;
    u64 uf = fpsr_read();
    printf("1/0 = %f (fpsr %08lx), 0/0 = %f (fpsr %08lx), 1e-300^2 = %e (fpsr %08lx)\n", (double)inf, dz, (double)nan, inv, (double)under, uf);
}

int main(void)
{
    puts("simd-numeric: double and float kernels, conversions and FPSR flags\n");
    kernels_double();
    kernels_float();
    conversions();
    return 0;
}
