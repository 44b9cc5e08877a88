/*
 * The generic timer through the GICv3: virtual (PPI 27) and physical (PPI 30) timers waking
 * WFI, ISTATUS/IMASK, TVAL/CVAL, priority order of two pending timers, the priority mask, WFI
 * with interrupts masked, and EL0 access controlled by CNTKCTL_EL1. Nothing printed depends on
 * how fast time passes (QEMU's timer follows the host clock, Tagvisor's the instruction count).
 */
#include "gic.h"

static volatile u32 taken[8];
static volatile u32 ntaken;
static volatile u64 ctl_in_handler[8];
static volatile u64 rpr_in_handler[8];

int irq_handler(struct frame *f, u64 kind)
{
    (void)f;
    if (kind != 5)
        return 0;
    u32 intid = (u32)read_sysreg(ICC_IAR1_EL1);
    if (intid == PPI_VTIMER || intid == PPI_PTIMER) {
        int phys = intid == PPI_PTIMER;
        u32 n = ntaken;
        if (n < 8) {
            taken[n] = intid;
            ctl_in_handler[n] = timer_ctl(phys);
            rpr_in_handler[n] = read_sysreg(ICC_RPR_EL1);
            ntaken = n + 1;
        }
        timer_set_ctl(phys, 3);            /* keep it enabled but masked: the line drops */
    }
    if (intid < 1020)
        write_sysreg(ICC_EOIR1_EL1, intid);
    isb();
    return 1;
}

static void wait_for(u32 count, const char *what)
{
    WAIT_FOR_IRQ(ntaken >= count, 100000);
    printf("%s: %s\n", what, ntaken >= count ? "fired" : "NOT fired");
}

static void show_taken(const char *what)
{
    printf("%s:", what);
    for (u32 i = 0; i < ntaken; i++)
        printf(" intid %u ctl %lx rpr %lx;", taken[i], ctl_in_handler[i], rpr_in_handler[i]);
    puts("\n");
    ntaken = 0;
}

static u64 el0_read_cntv_ctl(u64 arg) { (void)arg; return read_sysreg(cntv_ctl_el0); }
static u64 el0_read_cntvct(u64 arg) { (void)arg; u64 a = read_sysreg(cntvct_el0); return a != 0; }
static u64 el0_read_cntp_ctl(u64 arg) { (void)arg; return read_sysreg(cntp_ctl_el0); }

int main(void)
{
    printf("waker after wake: %x\n", gic_init());
    gic_config(PPI_VTIMER, 1, 0x90, 0);
    gic_config(PPI_PTIMER, 1, 0x80, 0);
    printf("ppi config: icfgr1 %x isenabler0 %x igroupr0 %x prio27 %x prio30 %x\n",
           REG32(GICR_SGI + 0xc04), REG32(GICR_SGI + 0x100), REG32(GICR_SGI + 0x80),
           REG8(GICR_SGI + 0x400 + 27), REG8(GICR_SGI + 0x400 + 30));

    /* Control register: reset value, ISTATUS with a deadline in the past / far future. */
    for (int phys = 0; phys < 2; phys++) {
        const char *name = phys ? "cntp" : "cntv";
        timer_set_ctl(phys, 0);
        printf("%s ctl disabled: %lx\n", name, timer_ctl(phys));
        timer_set_cval(phys, ~0UL);
        timer_set_ctl(phys, 1);
        printf("%s ctl, deadline far away: %lx\n", name, timer_ctl(phys));
        timer_set_cval(phys, 0);
        printf("%s ctl, deadline passed: %lx\n", name, timer_ctl(phys));
        timer_set_ctl(phys, 3);
        printf("%s ctl, masked: %lx, isr %lx, hppir1 %lu\n", name, timer_ctl(phys), read_sysreg(isr_el1), read_sysreg(ICC_HPPIR1_EL1));
        timer_set_ctl(phys, 0);
        printf("%s ctl disabled again: %lx, isr %lx\n", name, timer_ctl(phys), read_sysreg(isr_el1));
        timer_set_tval(phys, 1000000);
        u64 tval = timer_tval(phys) & 0xffffffffUL;
        printf("%s tval after writing 1000000: %s\n", name, tval > 0 && tval <= 1000000 ? "in (0, 1000000]" : "out of range");
    }

    /* Each timer wakes WFI with its PPI. */
    irq_enable();
    for (int phys = 0; phys < 2; phys++) {
        timer_set_tval(phys, 20000);
        timer_set_ctl(phys, 1);
        wait_for(1, phys ? "cntp after wfi" : "cntv after wfi");
        show_taken(phys ? "cntp" : "cntv");
        timer_set_ctl(phys, 0);
    }

    /* Both pending while masked: the higher priority (physical, 0x80) is taken first. */
    irq_disable();
    timer_set_cval(0, 0);
    timer_set_cval(1, 0);
    timer_set_ctl(0, 1);
    timer_set_ctl(1, 1);
    printf("both pending: isr %lx hppir1 %lu pend0 %x\n", read_sysreg(isr_el1), read_sysreg(ICC_HPPIR1_EL1), REG32(GICR_SGI + 0x200) & ((1u << 27) | (1u << 30)));
    irq_enable();
    for (int i = 0; i < 1000 && ntaken < 2; i++)
        ;
    show_taken("order");
    timer_set_ctl(0, 0);
    timer_set_ctl(1, 0);

    /* The priority mask hides a pending interrupt from the PE, not from HPPIR. */
    irq_disable();
    write_sysreg(ICC_PMR_EL1, 0x90);
    isb();
    timer_set_cval(0, 0);
    timer_set_ctl(0, 1);
    printf("pmr %lx: isr %lx hppir1 %lu iar1 %lu\n", read_sysreg(ICC_PMR_EL1), read_sysreg(isr_el1), read_sysreg(ICC_HPPIR1_EL1), read_sysreg(ICC_IAR1_EL1));
    write_sysreg(ICC_PMR_EL1, 0xff);
    isb();
    printf("pmr %lx: isr %lx\n", read_sysreg(ICC_PMR_EL1), read_sysreg(isr_el1));
    irq_enable();
    for (int i = 0; i < 1000 && ntaken < 1; i++)
        ;
    show_taken("after opening pmr");
    timer_set_ctl(0, 0);

    /* WFI wakes on a pending interrupt even while PSTATE.I masks it. */
    irq_disable();
    timer_set_tval(0, 30000);
    timer_set_ctl(0, 1);
    u64 isr = 0;
    for (int i = 0; i < 100000 && !(isr = read_sysreg(isr_el1)); i++)
        wfi();
    printf("wfi with I masked woke: isr %lx ctl %lx\n", isr, timer_ctl(0));
    irq_enable();
    for (int i = 0; i < 1000 && ntaken < 1; i++)
        ;
    show_taken("taken after unmasking");
    timer_set_ctl(0, 0);

    /* EL0 access: CNTKCTL_EL1.EL0VTEN (bit 8), EL0PTEN (bit 9), EL0VCTEN (bit 1). */
    irq_disable();
    write_sysreg(cntkctl_el1, 0);
    isb();
    expect_fault();
    run_el0(el0_read_cntv_ctl, 0, USER_STACK_TOP, 0);
    report_fault("el0 cntv_ctl, EL0VTEN=0");
    expect_fault();
    run_el0(el0_read_cntp_ctl, 0, USER_STACK_TOP, 0);
    report_fault("el0 cntp_ctl, EL0PTEN=0");
    expect_fault();
    run_el0(el0_read_cntvct, 0, USER_STACK_TOP, 0);
    report_fault("el0 cntvct, EL0VCTEN=0");
    write_sysreg(cntkctl_el1, (1 << 8) | (1 << 9) | (1 << 1));
    isb();
    expect_fault();
    u64 v = run_el0(el0_read_cntv_ctl, 0, USER_STACK_TOP, 0);
    report_fault("el0 cntv_ctl, EL0VTEN=1");
    printf("el0 cntv_ctl value %lx\n", v);
    expect_fault();
    v = run_el0(el0_read_cntvct, 0, USER_STACK_TOP, 0);
    report_fault("el0 cntvct, EL0VCTEN=1");
    printf("el0 cntvct nonzero %lu\n", v);
    write_sysreg(cntkctl_el1, 0);
    return 0;
}
