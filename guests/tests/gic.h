/*
 * GICv3 and generic-timer helpers for interrupt-driven guests (QEMU virt, gic-version=3:
 * distributor 0x08000000, redistributor 0x080A0000; timer PPIs 27 virtual, 30 physical).
 */
#ifndef GIC_H
#define GIC_H
#include "rt.h"

#define GICD            0x08000000UL
#define GICR            0x080A0000UL
#define GICR_SGI        (GICR + 0x10000UL)
#define REG32(a)        (*(volatile u32 *)(a))
#define REG8(a)         (*(volatile u8 *)(a))
#define REG64(a)        (*(volatile u64 *)(a))

#define PPI_VTIMER      27
#define PPI_PTIMER      30

/* ICC system registers by encoding (the assembler knows the names, but spell them out). */
#define ICC_PMR_EL1     S3_0_C4_C6_0
#define ICC_IAR0_EL1    S3_0_C12_C8_0
#define ICC_EOIR0_EL1   S3_0_C12_C8_1
#define ICC_HPPIR0_EL1  S3_0_C12_C8_2
#define ICC_BPR0_EL1    S3_0_C12_C8_3
#define ICC_AP1R0_EL1   S3_0_C12_C9_0
#define ICC_DIR_EL1     S3_0_C12_C11_1
#define ICC_RPR_EL1     S3_0_C12_C11_3
#define ICC_SGI1R_EL1   S3_0_C12_C11_5
#define ICC_SGI0R_EL1   S3_0_C12_C11_7
#define ICC_IAR1_EL1    S3_0_C12_C12_0
#define ICC_EOIR1_EL1   S3_0_C12_C12_1
#define ICC_HPPIR1_EL1  S3_0_C12_C12_2
#define ICC_BPR1_EL1    S3_0_C12_C12_3
#define ICC_CTLR_EL1    S3_0_C12_C12_4
#define ICC_SRE_EL1     S3_0_C12_C12_5
#define ICC_IGRPEN0_EL1 S3_0_C12_C12_6
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7

static inline void irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static inline void fiq_enable(void) { __asm__ volatile("msr daifclr, #1" ::: "memory"); }
static inline void fiq_disable(void) { __asm__ volatile("msr daifset, #1" ::: "memory"); }
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

/*
 * Wait (at most `limit` WFIs) until `cond` holds, where cond is made true by an interrupt
 * handler. Checking with interrupts enabled and then executing WFI loses a wake-up when the
 * interrupt arrives in between (WFI then sleeps forever on QEMU). So check with PSTATE.I set:
 * WFI still wakes on a pending interrupt while it is masked, and the interrupt is taken when
 * I is cleared. Call with interrupts enabled; they are enabled again on return.
 */
#define WAIT_FOR_IRQ(cond, limit)                                   \
    do {                                                            \
        irq_disable();                                              \
        for (int wait_i_ = 0; wait_i_ < (limit) && !(cond); wait_i_++) { \
            wfi();                                                  \
            irq_enable();                                           \
            __asm__ volatile("isb" ::: "memory");                   \
            irq_disable();                                          \
        }                                                           \
        irq_enable();                                               \
    } while (0)

/* Distributor groups on, redistributor awake, system-register CPU interface on, PMR open,
 * Group 1 enabled. Returns the WAKER value after waking (0 when awake). */
static u32 gic_init(void)
{
    REG32(GICD) = 3;                                   /* EnableGrp0 | EnableGrp1 (ARE is RAO) */
    REG32(GICR + 0x14) = REG32(GICR + 0x14) & ~2u;     /* WAKER.ProcessorSleep = 0 */
    for (int i = 0; i < 1000 && (REG32(GICR + 0x14) & 4); i++)
        ;                                              /* ChildrenAsleep clears */
    write_sysreg(ICC_SRE_EL1, 7);
    isb();
    write_sysreg(ICC_PMR_EL1, 0xf0);
    write_sysreg(ICC_IGRPEN1_EL1, 1);
    isb();
    return REG32(GICR + 0x14);
}

/* Configure an SGI/PPI (redistributor) or SPI (distributor): group, priority, edge, enable. */
static void gic_config(u32 intid, int group, u8 prio, int edge)
{
    u64 base = intid < 32 ? GICR_SGI : GICD;
    u32 bit = 1u << (intid % 32), word = 4 * (intid / 32);
    if (group) REG32(base + 0x80 + word) |= bit; else REG32(base + 0x80 + word) &= ~bit;
    REG8(base + 0x400 + intid) = prio;
    if (intid >= 16) {
        u64 cfg = base + 0xc00 + 4 * (intid / 16);
        u32 shift = 2 * (intid % 16) + 1;
        REG32(cfg) = (REG32(cfg) & ~(1u << shift)) | ((u32)(edge ? 1 : 0) << shift);
    }
    if (intid >= 32)
        REG64(GICD + 0x6000 + 8 * intid) = 0;          /* route to PE 0.0.0.0 */
    REG32(base + 0x100 + word) = bit;                  /* ISENABLER */
}

static void gic_disable(u32 intid)
{
    u64 base = intid < 32 ? GICR_SGI : GICD;
    REG32(base + 0x180 + 4 * (intid / 32)) = 1u << (intid % 32);   /* ICENABLER */
}

static u32 gic_bit(u64 block, u32 intid)       /* block: 0x200 ISPENDR, 0x300 ISACTIVER ... */
{
    u64 base = intid < 32 ? GICR_SGI : GICD;
    return (REG32(base + block + 4 * (intid / 32)) >> (intid % 32)) & 1;
}

static inline void sgi1(u32 intid) { write_sysreg(ICC_SGI1R_EL1, ((u64)intid << 24) | 1); isb(); }
static inline void sgi0(u32 intid) { write_sysreg(ICC_SGI0R_EL1, ((u64)intid << 24) | 1); isb(); }

/* Generic timer: 0 = virtual (CNTV), 1 = physical (CNTP). */
static inline u64 cnt_read(int phys) { return phys ? read_sysreg(cntpct_el0) : read_sysreg(cntvct_el0); }
static inline u64 timer_ctl(int phys) { return phys ? read_sysreg(cntp_ctl_el0) : read_sysreg(cntv_ctl_el0); }
static inline void timer_set_ctl(int phys, u64 v) { if (phys) write_sysreg(cntp_ctl_el0, v); else write_sysreg(cntv_ctl_el0, v); isb(); }
static inline void timer_set_cval(int phys, u64 v) { if (phys) write_sysreg(cntp_cval_el0, v); else write_sysreg(cntv_cval_el0, v); isb(); }
static inline void timer_set_tval(int phys, u64 v) { if (phys) write_sysreg(cntp_tval_el0, v); else write_sysreg(cntv_tval_el0, v); isb(); }
static inline u64 timer_tval(int phys) { return phys ? read_sysreg(cntp_tval_el0) : read_sysreg(cntv_tval_el0); }

#endif
