/*
 * Tagvisor guest runtime: the one header every C guest includes.
 *
 * Machine: QEMU `virt` (and Tagvisor), entered at EL1h with the MMU off.
 * See guests/README.md for the memory map and conventions.
 */
#ifndef RT_H
#define RT_H

typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef int i32;
typedef unsigned short u16;
typedef short i16;
typedef unsigned char u8;
typedef signed char i8;
typedef unsigned long size_t;
typedef unsigned long uintptr_t;

#define NULL ((void *)0)

/* ---- memory map (VA; see mmu.c) --------------------------------------------------------- */
#define UART0_BASE        0x09000000UL
#define RAM_BASE          0x40000000UL
/* 0x40000000-0x401FFFFF: image (text+rodata read-only, EL0 executable; rest EL1 RW), tagged */
/* 0x40200000-0x403FFFFF: "user" block, EL0+EL1 RW, never executable, Normal Tagged */
#define USER_BASE         0x40200000UL
#define USER_STACK_TOP    0x40400000UL
/* 0x40400000-0x405FFFFF: test block, 4 KiB pages, Normal Tagged, EL1 RW, except: */
#define TEST_BASE         0x40400000UL   /* 8 tagged pages 0x40400000-0x40407FFF */
#define TEST_UNTAGGED_PG  0x40408000UL   /* Normal, NOT tagged (MAIR 0xFF) */
#define TEST_UNMAPPED_PG  0x40409000UL   /* invalid descriptor: translation fault */
#define TEST_RW_PG        0x4040A000UL   /* tagged, EL1 RW (like the rest) */
#define TEST_RO_PG        0x4040B000UL   /* tagged, read-only at EL1 */
#define TEST_TAGGED2      0x4040C000UL   /* tagged EL1 RW again from here to 0x404FFFFF */
#define HEAP_BASE         0x40500000UL   /* 1 MiB for heap-style guests, tagged, EL1 RW */
#define HEAP_SIZE         0x00100000UL
/* 0x40600000-0x4FFFFFFF: Normal Tagged, EL1 RW */
/* VA 0x80000000 + x aliases PA 0x40000000 + x as Normal NOT tagged (MAIR 0xFF), EL0+EL1 RW */
#define UNTAGGED_ALIAS(pa) ((u64)(pa) + 0x40000000UL)
/* TTBR1 (upper half) shares the TTBR0 tables: VA 0xFFFFFF80_00000000 + x maps like x. */
#define UPPER_ALIAS(va)    ((u64)(va) | 0xFFFFFF8000000000UL)

/* ---- tags in pointers ------------------------------------------------------------------- */
#define PTR_TAG(p)        (((u64)(p) >> 56) & 0xF)
#define WITH_TAG(p, t)    ((((u64)(p)) & ~(0xFUL << 56)) | ((u64)((t) & 0xF) << 56))

/* ---- system registers ------------------------------------------------------------------- */
#define STR_(x) #x
#define STR(x) STR_(x)
#define read_sysreg(r) ({ u64 __v; __asm__ volatile("mrs %0, " STR(r) : "=r"(__v) :: "memory"); __v; })
#define write_sysreg(r, v) __asm__ volatile("msr " STR(r) ", %0" :: "r"((u64)(v)) : "memory")
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb() __asm__ volatile("dsb sy" ::: "memory")
#define barrier() __asm__ volatile("" ::: "memory")

/* SCTLR_EL1 value the runtime uses (MMU, caches, alignment checks of SP, no PAC/BTI), without
 * the MTE fields; see start.S for the bit-by-bit list. */
#define SCTLR_BASE        0x34D5D99DUL
#define SCTLR_TCF0_SHIFT  38
#define SCTLR_TCF_SHIFT   40
#define SCTLR_ATA0        (1UL << 42)
#define SCTLR_ATA         (1UL << 43)
#define TCF_NONE  0
#define TCF_SYNC  1
#define TCF_ASYNC 2
#define TCF_ASYMM 3

#define TCR_TCMA0 (1UL << 57)
#define TCR_TCMA1 (1UL << 58)

/* SPSR bits this suite prints: N Z C V (31:28), TCO (25), D A I F (9:6), M[3:0].
 * Everything else (PAN, UAO, DIT, SSBS, BTYPE, ALLINT, IL, SS, ...) is masked out when printed:
 * those depend on features/reset state the suite does not exercise, and Tagvisor need not model
 * them identically. */
#define SPSR_PRINT_MASK   0xF20003CFUL

/* ---- output ----------------------------------------------------------------------------- */
void putc(int c);
void puts(const char *s);            /* no newline appended */
void printf(const char *fmt, ...);   /* %c %s %d %u %x %lx %ld %lu %p, width, '0' flag, '-' for %s */
#ifdef RT_SIMD
/* simd-* guests: printf also takes %f %e %g with a precision (".N"), printed exactly
 * (runtime/fmt-double.c). */
void rt_put_double(double v, int conv, int width, int prec, int zero, int left);
#endif
void print_hex(u64 v);               /* 0x%016lx */
void exit(int code) __attribute__((noreturn));      /* semihosting SYS_EXIT_EXTENDED */
void psci_off(void) __attribute__((noreturn));      /* PSCI SYSTEM_OFF via HVC #0 */
u64 hvc_call(u64 fn, u64 a1, u64 a2, u64 a3);       /* x0..x3 in, x0 out */

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* Exit codes used by the runtime itself (tests use 0 for success, small numbers otherwise). */
#define EXIT_UNEXPECTED_EL1   101   /* unexpected synchronous exception taken from EL1 */
#define EXIT_UNEXPECTED_EL0   102   /* unexpected exception taken from EL0 */
#define EXIT_UNEXPECTED_ASYNC 103   /* IRQ/FIQ/SError at EL1 */

/* The register frame the vectors save (start.S). */
struct frame {
    u64 x[31];
    u64 elr, spsr, sp_el0;
};
/* Weak hook for IRQs and FIQs (kind 1/5/9: IRQ, 2/6/10: FIQ, by the vector's EL and SP).
 * Return 1 when handled (execution resumes where it was interrupted), 0 to report the
 * interrupt as unexpected. The default returns 0. */
int irq_handler(struct frame *f, u64 kind);
/* Weak hook called before the runtime reports an unexpected exception. */
void unexpected_exception(struct frame *f, u64 kind, u64 esr, u64 far);

/* ---- exceptions ------------------------------------------------------------------------- */
struct fault_rec {
    volatile u32 armed;   /* set by expect_fault(), cleared by the handler */
    volatile u32 taken;   /* number of faults recorded since expect_fault() */
    volatile u64 esr, far, elr, spsr;
    volatile u32 kind;    /* vector index: 4 = current EL SPx sync, 8 = lower EL sync, ... */
    volatile u64 handler_tco;  /* PSTATE.TCO as seen by the handler (exception entry sets it) */
};
extern struct fault_rec fault;

/* Arm the handler for exactly one synchronous exception. The handler records ESR/FAR/ELR/SPSR
 * and resumes after the faulting instruction (ELR += 4), except: SVC/HVC/SMC resume at ELR
 * (already after the instruction); instruction aborts and PC alignment faults resume at the
 * link register x30 (reach bad targets with BLR). */
void expect_fault(void);
/* Print " ESR=... FAR=..." (FAR only where the architecture defines it) and SPSR (masked) of
 * the recorded fault, or " no fault" — then a newline. */
void report_fault(const char *what);
#define ESR_EC(esr) (((esr) >> 26) & 0x3F)

/* EL0 tasks: run fn(arg) at EL0t with SP_EL0 = sp and SPSR extra bits (e.g. TCO, bit 25).
 * The task returns by `svc #0` (its return address is a trampoline doing that); the value in
 * x0 is returned. `svc #1` prints the character in x0. A fault taken from EL0 while armed is
 * recorded and skipped like an EL1 one; otherwise it is fatal. */
u64 run_el0(u64 (*fn)(u64), u64 arg, u64 sp, u64 spsr_extra);

/* ---- MTE helpers ------------------------------------------------------------------------ */
void mte_config(int tcf, int tcf0, int ata, int ata0);   /* rewrite SCTLR_EL1 (full value) */
void tcr_tcma(int tcma0, int tcma1);                     /* rewrite TCR_EL1 (full value) */

/* 1 when the CPU implements MTE (FEAT_MTE2); the -nomte guests run with it off. */
extern u32 rt_have_mte;

static inline void tco_set(void) { __asm__ volatile("msr tco, #1" ::: "memory"); }
static inline void tco_clear(void) { __asm__ volatile("msr tco, #0" ::: "memory"); }
static inline u64 tco_read(void) { u64 v; __asm__ volatile("mrs %0, tco" : "=r"(v)); return v; }

static inline u64 irg(u64 p, u64 excl) {
    u64 r; __asm__ volatile("irg %0, %1, %2" : "=r"(r) : "r"(p), "r"(excl) : "memory"); return r;
}
static inline u64 ldg(u64 p) {
    u64 r = p; __asm__ volatile("ldg %0, [%1]" : "+r"(r) : "r"(p) : "memory"); return r;
}
static inline void stg(u64 p) { __asm__ volatile("stg %0, [%0]" :: "r"(p) : "memory"); }
static inline void st2g(u64 p) { __asm__ volatile("st2g %0, [%0]" :: "r"(p) : "memory"); }
static inline void stzg(u64 p) { __asm__ volatile("stzg %0, [%0]" :: "r"(p) : "memory"); }
static inline u64 ldgm(u64 p) {
    u64 r; __asm__ volatile("ldgm %0, [%1]" : "=r"(r) : "r"(p) : "memory"); return r;
}
static inline void stgm(u64 p, u64 tags) { __asm__ volatile("stgm %0, [%1]" :: "r"(tags), "r"(p) : "memory"); }
/* Tag every granule of [p, p+len) with p's logical tag (len multiple of 16). */
void tag_range(u64 p, u64 len);
/* Allocation tags of n granules from p, as a hex string of n digits (read with LDG; the
 * address's own tag is irrelevant). */
void print_tags(u64 p, int n);

/* Semihosting SYS_WRITEC / SYS_WRITE0 (QEMU sends these to its own console, not the UART). */
void semihost_writec(char c);
void semihost_write0(const char *s);

#endif
