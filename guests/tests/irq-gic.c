/*
 * The GICv3 itself: identification and reset values both GICs agree on, SGIs generated through
 * ICC_SGI1R/ICC_SGI0R (Group 1 as IRQ, Group 0 as FIQ), priority order, the running priority,
 * preemption governed by the binary point, EOImode = 1 with ICC_DIR, SPIs made pending through
 * the distributor (edge and level), active state, and routing.
 */
#include "gic.h"

#define LOG_MAX 32
static volatile u32 log_intid[LOG_MAX];
static volatile u64 log_rpr[LOG_MAX];
static volatile u32 log_kind[LOG_MAX];
static volatile u32 nlog;
static volatile int nest_sgi = -1;     /* SGI to raise from inside the handler of SGI 3 */
static volatile int no_eoi;            /* acknowledge only */

static void record(u32 intid, u64 kind)
{
    u32 n = nlog;
    if (n < LOG_MAX) {
        log_intid[n] = intid;
        log_rpr[n] = read_sysreg(ICC_RPR_EL1);
        log_kind[n] = (u32)kind;
        nlog = n + 1;
    }
}

int irq_handler(struct frame *f, u64 kind)
{
    (void)f;
    if (kind == 6) {                   /* FIQ: Group 0 */
        u32 intid = (u32)read_sysreg(ICC_IAR0_EL1);
        record(intid, kind);
        if (intid < 1020 && !no_eoi)
            write_sysreg(ICC_EOIR0_EL1, intid);
        isb();
        return 1;
    }
    if (kind != 5)
        return 0;
    u32 intid = (u32)read_sysreg(ICC_IAR1_EL1);
    record(intid, kind);
    if (intid == 3 && nest_sgi >= 0) {
        int s = nest_sgi;
        nest_sgi = -1;
        sgi1((u32)s);
        irq_enable();                  /* allow preemption while SGI 3 is active */
        for (int i = 0; i < 100; i++)
            __asm__ volatile("nop");
        irq_disable();
        record(1000 + 3, kind);        /* marks the end of SGI 3's handler */
    }
    if (intid < 1020 && !no_eoi)
        write_sysreg(ICC_EOIR1_EL1, intid);
    isb();
    return 1;
}

static void spin(void)
{
    for (int i = 0; i < 200; i++)
        __asm__ volatile("nop");
}

static void show(const char *what)
{
    printf("%s:", what);
    for (u32 i = 0; i < nlog; i++) {
        if (log_intid[i] >= 1000 && log_intid[i] < 1020)
            printf(" end-%u", log_intid[i] - 1000);
        else
            printf(" %s%u(rpr %lx)", log_kind[i] == 6 ? "fiq:" : "", log_intid[i], log_rpr[i]);
    }
    puts("\n");
    nlog = 0;
}

int main(void)
{
    u32 typer = REG32(GICD + 4);
    printf("gicd: ctlr %x itlines %u pidr2.arch %u\n", REG32(GICD), typer & 0x1f, (REG32(GICD + 0xffe8) >> 4) & 0xf);
    printf("gicr: typer.last %lu pidr2.arch %u waker %x\n", (REG64(GICR + 8) >> 4) & 1, (REG32(GICR + 0xffe8) >> 4) & 0xf, REG32(GICR + 0x14));
    printf("icc reset: sre %lx ctlr %lx bpr0 %lx bpr1 %lx pmr %lx igrpen0 %lx igrpen1 %lx rpr %lx\n",
           read_sysreg(ICC_SRE_EL1), read_sysreg(ICC_CTLR_EL1), read_sysreg(ICC_BPR0_EL1), read_sysreg(ICC_BPR1_EL1),
           read_sysreg(ICC_PMR_EL1), read_sysreg(ICC_IGRPEN0_EL1), read_sysreg(ICC_IGRPEN1_EL1), read_sysreg(ICC_RPR_EL1));
    printf("sgi cfg: icfgr0 %x\n", REG32(GICR_SGI + 0xc00));
    printf("waker after wake: %x\n", gic_init());
    REG32(GICD) = 0xffffffff;
    printf("gicd ctlr after all-ones: %x\n", REG32(GICD));
    REG32(GICD) = 3;
    write_sysreg(ICC_PMR_EL1, 0xff);
    write_sysreg(ICC_BPR1_EL1, 0);
    write_sysreg(ICC_BPR0_EL1, 0);
    isb();
    printf("pmr %lx bpr1 %lx bpr0 %lx (after writing ff, 0, 0)\n", read_sysreg(ICC_PMR_EL1), read_sysreg(ICC_BPR1_EL1), read_sysreg(ICC_BPR0_EL1));
    REG32(GICD + 0x400 + 40) = 0xffffffff;
    printf("spi priority bytes keep all bits: %x\n", REG32(GICD + 0x400 + 40));

    /* Group 1 SGIs: priority order, HPPIR, running priority inside the handler. */
    gic_config(3, 1, 0xa0, 1);
    gic_config(5, 1, 0x80, 1);
    gic_config(6, 1, 0x80, 1);
    sgi1(3);
    sgi1(6);
    sgi1(5);
    printf("pending sgis: ispendr0 %x hppir1 %lu isr %lx\n", REG32(GICR_SGI + 0x200) & 0xff, read_sysreg(ICC_HPPIR1_EL1), read_sysreg(isr_el1));
    irq_enable();
    spin();
    irq_disable();
    show("sgi order (equal priority: lower INTID first)");

    /* An SGI generated for the other group stays idle. */
    sgi0(3);
    printf("sgi0 for a group-1 sgi: ispendr0 %x\n", REG32(GICR_SGI + 0x200) & 0xff);

    /* Preemption: SGI 5 (0x80) preempts SGI 3 (0xa0) only if their group priorities differ. */
    write_sysreg(ICC_BPR1_EL1, 3);
    isb();
    nest_sgi = 5;
    sgi1(3);
    irq_enable();
    spin();
    irq_disable();
    show("bpr1 3: nested");
    write_sysreg(ICC_BPR1_EL1, 7);
    isb();
    printf("bpr1 now %lx\n", read_sysreg(ICC_BPR1_EL1));
    nest_sgi = 5;
    sgi1(3);
    irq_enable();
    spin();
    irq_disable();
    show("bpr1 7: not nested");
    write_sysreg(ICC_BPR1_EL1, 3);
    isb();

    /* Group 0 is signalled as FIQ (single Security state). */
    gic_config(7, 0, 0x40, 1);
    write_sysreg(ICC_IGRPEN0_EL1, 1);
    isb();
    sgi1(7);
    printf("sgi1 for a group-0 sgi: ispendr0 %x\n", REG32(GICR_SGI + 0x200) & 0xff);
    sgi0(7);
    printf("sgi0: isr %lx hppir0 %lu hppir1 %lu\n", read_sysreg(isr_el1), read_sysreg(ICC_HPPIR0_EL1), read_sysreg(ICC_HPPIR1_EL1));
    fiq_enable();
    spin();
    fiq_disable();
    show("fiq");

    /* SPIs made pending through GICD_ISPENDR: edge and level. */
    gic_config(40, 1, 0x60, 1);
    gic_config(41, 1, 0x50, 0);
    REG32(GICD + 0x200 + 4) = (1u << 8) | (1u << 9);
    printf("spi pending: %u %u hppir1 %lu\n", gic_bit(0x200, 40), gic_bit(0x200, 41), read_sysreg(ICC_HPPIR1_EL1));
    irq_enable();
    spin();
    irq_disable();
    show("spis");
    printf("spi pending after: %u %u\n", gic_bit(0x200, 40), gic_bit(0x200, 41));

    /* Acknowledge without EOI: active, running priority held; EOI clears both. */
    no_eoi = 1;
    REG32(GICD + 0x200 + 4) = 1u << 8;
    irq_enable();
    spin();
    irq_disable();
    no_eoi = 0;
    show("acked, no eoi");
    printf("active %u rpr %lx ap1r0 %lx\n", gic_bit(0x300, 40), read_sysreg(ICC_RPR_EL1), read_sysreg(ICC_AP1R0_EL1));
    write_sysreg(ICC_EOIR1_EL1, 40);
    isb();
    printf("after eoi: active %u rpr %lx ap1r0 %lx\n", gic_bit(0x300, 40), read_sysreg(ICC_RPR_EL1), read_sysreg(ICC_AP1R0_EL1));

    /* EOImode = 1: EOI only drops the priority, DIR deactivates. */
    write_sysreg(ICC_CTLR_EL1, 2);
    isb();
    printf("icc ctlr %lx\n", read_sysreg(ICC_CTLR_EL1));
    REG32(GICD + 0x200 + 4) = 1u << 8;
    irq_enable();
    spin();
    irq_disable();
    show("eoimode 1");
    printf("after eoi: active %u rpr %lx\n", gic_bit(0x300, 40), read_sysreg(ICC_RPR_EL1));
    REG32(GICD + 0x200 + 4) = 1u << 8;
    printf("pending again while active: pending %u isr %lx\n", gic_bit(0x200, 40), read_sysreg(isr_el1));
    write_sysreg(ICC_DIR_EL1, 40);
    isb();
    printf("after dir: active %u isr %lx\n", gic_bit(0x300, 40), read_sysreg(isr_el1));
    irq_enable();
    spin();
    irq_disable();
    show("taken after dir");
    write_sysreg(ICC_DIR_EL1, 40);
    write_sysreg(ICC_CTLR_EL1, 0);
    isb();

    /* Disabled and mis-routed SPIs are not signalled; ICPENDR clears. */
    gic_disable(40);
    REG32(GICD + 0x200 + 4) = 1u << 8;
    printf("disabled spi: pending %u isr %lx\n", gic_bit(0x200, 40), read_sysreg(isr_el1));
    REG32(GICD + 0x280 + 4) = 1u << 8;
    printf("icpendr: pending %u\n", gic_bit(0x200, 40));
    gic_config(42, 1, 0x60, 1);
    REG64(GICD + 0x6000 + 8 * 42) = 0x100;          /* Aff1 = 1: no such PE */
    REG32(GICD + 0x200 + 4) = 1u << 10;
    printf("spi routed elsewhere: pending %u isr %lx irouter %lx\n", gic_bit(0x200, 42), read_sysreg(isr_el1), REG64(GICD + 0x6000 + 8 * 42));
    REG64(GICD + 0x6000 + 8 * 42) = 1UL << 31;      /* IRM: any PE */
    printf("irm: isr %lx\n", read_sysreg(isr_el1));
    irq_enable();
    spin();
    irq_disable();
    show("routed");
    return 0;
}
