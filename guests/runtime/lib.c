/*
 * Tagvisor guest runtime: UART output, printf-lite, exit, exceptions, MTE helpers.
 */
#include "rt.h"

/* ---- UART (PL011) ----------------------------------------------------------------------- */
#define UART_DR (*(volatile u32 *)(UART0_BASE + 0x00))
#define UART_FR (*(volatile u32 *)(UART0_BASE + 0x18))
#define FR_TXFF (1u << 5)

void putc(int c)
{
    /* Bounded wait for TX FIFO space: never hang on a strange UART. */
    for (int i = 0; i < 100000 && (UART_FR & FR_TXFF); i++)
        ;
    UART_DR = (u32)(u8)c;
}

void puts(const char *s)
{
    while (*s)
        putc(*s++);
}

static void put_num(u64 v, int base, int width, int zero, int neg)
{
    char buf[24];
    int n = 0;
    do {
        u64 d = v % (u64)base;
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= (u64)base;
    } while (v);
    if (neg)
        buf[n++] = '-';
    for (int i = n; i < width; i++)
        putc(zero ? '0' : ' ');
    while (n)
        putc(buf[--n]);
}

void printf(const char *fmt, ...)
{
    __builtin_va_list ap;
    __builtin_va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc(*fmt);
            continue;
        }
        fmt++;
        int zero = 0, width = 0, lng = 0, left = 0;
        if (*fmt == '-') {
            left = 1;
            fmt++;
        }
        if (*fmt == '0') {
            zero = 1;
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
#ifdef RT_SIMD
        int prec = -1;
        if (*fmt == '.')
            for (prec = 0, fmt++; *fmt >= '0' && *fmt <= '9';)
                prec = prec * 10 + (*fmt++ - '0');
#endif
        while (*fmt == 'l') {
            lng = 1;
            fmt++;
        }
        switch (*fmt) {
        case 'c':
            putc(__builtin_va_arg(ap, int));
            break;
        case 's': {
            const char *s = __builtin_va_arg(ap, const char *);
            int len = 0;
            while (s[len])
                len++;
            if (!left)
                for (int i = len; i < width; i++)
                    putc(' ');
            puts(s);
            if (left)
                for (int i = len; i < width; i++)
                    putc(' ');
            break;
        }
        case 'd': {
            i64 v = lng ? __builtin_va_arg(ap, i64) : __builtin_va_arg(ap, i32);
            put_num(v < 0 ? -(u64)v : (u64)v, 10, width, zero, v < 0);
            break;
        }
        case 'u': {
            u64 v = lng ? __builtin_va_arg(ap, u64) : __builtin_va_arg(ap, u32);
            put_num(v, 10, width, zero, 0);
            break;
        }
        case 'x': {
            u64 v = lng ? __builtin_va_arg(ap, u64) : __builtin_va_arg(ap, u32);
            put_num(v, 16, width, zero, 0);
            break;
        }
        case 'p':
            puts("0x");
            put_num(__builtin_va_arg(ap, u64), 16, 16, 1, 0);
            break;
        case '%':
            putc('%');
            break;
#ifdef RT_SIMD
        case 'f':
        case 'e':
        case 'g':
            rt_put_double(__builtin_va_arg(ap, double), *fmt, width, prec < 0 ? 6 : prec, zero, left);
            break;
#endif
        case 0:
            fmt--;
            break;
        default:
            putc('%');
            putc(*fmt);
        }
    }
    __builtin_va_end(ap);
}

void print_hex(u64 v)
{
    printf("0x%016lx", v);
}

/* ---- exit ------------------------------------------------------------------------------- */
u64 semihost(u64 op, u64 arg);

void semihost_writec(char c)
{
    volatile char ch = c;
    semihost(0x03, (u64)&ch);
}

void semihost_write0(const char *s)
{
    semihost(0x04, (u64)s);
}

void psci_off(void)
{
    hvc_call(0x84000008UL, 0, 0, 0);
    for (;;)
        __asm__ volatile("wfi");
}

void exit(int code)
{
    /* SYS_EXIT_EXTENDED: x1 -> { ADP_Stopped_ApplicationExit, exit code } */
    volatile u64 block[2] = { 0x20026, (u64)(u32)code };
    semihost(0x20, (u64)block);
    /* No semihosting: at least stop the machine. */
    psci_off();
}

/* ---- string functions (the compiler may call these) -------------------------------------- */
void *memset(void *d, int c, size_t n)
{
    volatile u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    volatile u8 *p = d;
    const volatile u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p < *q ? -1 : 1;
    return 0;
}

/* ---- exceptions ------------------------------------------------------------------------- */
struct fault_rec fault;

/* Default: nothing. The instruction-test harness overrides it (and never returns). */
__attribute__((weak)) void unexpected_exception(struct frame *f, u64 kind, u64 esr, u64 far)
{
    (void)f, (void)kind, (void)esr, (void)far;
}

static const char *const kind_names[16] = {
    "sync EL1t", "irq EL1t", "fiq EL1t", "serror EL1t",
    "sync EL1h", "irq EL1h", "fiq EL1h", "serror EL1h",
    "sync EL0/64", "irq EL0/64", "fiq EL0/64", "serror EL0/64",
    "sync EL0/32", "irq EL0/32", "fiq EL0/32", "serror EL0/32",
};

/* Set by start.S: ID_AA64PFR1_EL1.MTE >= 2. Without MTE the runtime never touches MTE state. */
u32 rt_have_mte;

/* FAR_EL1 is only meaningful for aborts and PC alignment faults; elsewhere it is UNKNOWN. */
static int far_valid(u64 esr)
{
    u64 ec = ESR_EC(esr);
    return ec == 0x20 || ec == 0x21 || ec == 0x22 || ec == 0x24 || ec == 0x25;
}

void expect_fault(void)
{
    fault.taken = 0;
    fault.esr = fault.far = fault.elr = fault.spsr = 0;
    fault.kind = 0;
    fault.handler_tco = 0;
    barrier();
    fault.armed = 1;
    barrier();
}

void report_fault(const char *what)
{
    fault.armed = 0;
    printf("%s:", what);
    if (!fault.taken) {
        puts(" no fault\n");
        return;
    }
    printf(" ESR=%08lx", fault.esr);
    if (far_valid(fault.esr))
        printf(" FAR=%016lx", fault.far);
    printf(" SPSR=%08lx\n", fault.spsr & SPSR_PRINT_MASK);
}

/* Default: interrupts are unexpected. Interrupt-driven guests override it (rt.h). */
__attribute__((weak)) int irq_handler(struct frame *f, u64 kind)
{
    (void)f, (void)kind;
    return 0;
}

/* Called from exc_common with the saved frame. Returns 1 when an EL0 task finished. */
u64 exc_handler(struct frame *f, u64 kind)
{
    if ((kind & 3) == 1 || (kind & 3) == 2) {   /* IRQ or FIQ */
        if (irq_handler(f, kind))
            return 0;
    }
    u64 esr = read_sysreg(esr_el1);
    u64 far = read_sysreg(far_el1);
    u64 ec = ESR_EC(esr);
    int sync = (kind & 3) == 0;

    if (kind == 8 && ec == 0x15) {          /* SVC from EL0 */
        u64 imm = esr & 0xFFFF;
        if (imm == 0)
            return 1;
        if (imm == 1) {
            putc((int)f->x[0]);
            return 0;
        }
    }
    if (sync && fault.armed) {
        fault.handler_tco = rt_have_mte ? tco_read() : 0;
        fault.armed = 0;
        fault.taken++;
        fault.esr = esr;
        fault.far = far;
        fault.elr = f->elr;
        fault.spsr = f->spsr;
        fault.kind = (u32)kind;
        if (ec == 0x15 || ec == 0x16 || ec == 0x17) {
            /* SVC/HVC/SMC: ELR already points after the instruction. */
        } else if (ec == 0x20 || ec == 0x21 || ec == 0x22) {
            /* Instruction abort / PC alignment: ELR is the bad target; resume at the link
             * register, so tests reach bad targets with BLR. */
            f->elr = f->x[30];
        } else {
            f->elr += 4;
        }
        return 0;
    }
    unexpected_exception(f, kind, esr, far);
    printf("\n*** unexpected exception: %s ESR=%08lx FAR=%016lx ELR=%016lx SPSR=%08lx\n",
           kind_names[kind & 15], esr, far, f->elr, f->spsr & SPSR_PRINT_MASK);
    exit(kind >= 8 ? EXIT_UNEXPECTED_EL0 : sync ? EXIT_UNEXPECTED_EL1 : EXIT_UNEXPECTED_ASYNC);
}

/* ---- MTE helpers ------------------------------------------------------------------------ */
void mte_config(int tcf, int tcf0, int ata, int ata0)
{
    u64 v = SCTLR_BASE | ((u64)(tcf & 3) << SCTLR_TCF_SHIFT) | ((u64)(tcf0 & 3) << SCTLR_TCF0_SHIFT);
    if (ata)
        v |= SCTLR_ATA;
    if (ata0)
        v |= SCTLR_ATA0;
    write_sysreg(sctlr_el1, v);
    isb();
}

void tcr_tcma(int tcma0, int tcma1)
{
    u64 v = (0x6UL << 36) | (0x2UL << 32) | 0xB5193519UL;
    if (tcma0)
        v |= TCR_TCMA0;
    if (tcma1)
        v |= TCR_TCMA1;
    write_sysreg(tcr_el1, v);
    isb();
    __asm__ volatile("tlbi vmalle1; dsb nsh; isb" ::: "memory");
}

void tag_range(u64 p, u64 len)
{
    for (u64 off = 0; off < len; off += 16)
        stg(p + off);
}

void print_tags(u64 p, int n)
{
    for (int i = 0; i < n; i++)
        putc("0123456789abcdef"[PTR_TAG(ldg(p + 16 * (u64)i))]);
}
