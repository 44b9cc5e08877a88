/*
 * Tagvisor guest runtime: entry, exception vectors, EL0 task switch, exit.
 *
 * Entered at the ELF entry point at EL1h with the MMU off. Nothing about the reset state is
 * trusted: every register the runtime depends on is written here before use.
 */

    .file "start.S"

#define FRAME_SIZE 272          /* x0..x30, ELR, SPSR, SP_EL0 (34 * 8) */
#define F_ELR      248
#define F_SPSR     256
#define F_SP_EL0   264

/* MAIR_EL1: attr0 = 0xF0 Normal Tagged WB (MTE), attr1 = 0xFF Normal WB (untagged),
 *           attr2 = 0x04 Device-nGnRE. */
#define MAIR_VALUE 0x04FFF0

/* TCR_EL1: T0SZ = T1SZ = 25 (39-bit VAs, walks start at level 1), 4 KiB granules (TG0 = 0,
 * TG1 = 2), inner/outer WBWA, inner shareable, IPS = 40 bits, 8-bit ASIDs, TBI0 = TBI1 = 1
 * (top byte ignored: needed for MTE), TCMA0 = TCMA1 = 0, no hardware AF/DBM, TBID = 0. */
#define TCR_VALUE  ((0x6 << 36) | (0x2 << 32) | 0xB5193519)
/* = TBI1(38) TBI0(37) | IPS=2 | TG1=2 SH1=3 ORGN1=1 IRGN1=1 T1SZ=25 | SH0=3 ORGN0=1 IRGN0=1 T0SZ=25 */

/* SCTLR_EL1 (full value, see rt.h SCTLR_BASE): M C SA SA0 ITD SED EOS I DZE UCT nTWI nTWE
 * TSCXT EIS SPAN UCI nTLSMD LSMAOE; A = 0 (unaligned accesses to Normal memory allowed),
 * nAA = 0 (FEAT_LSE2: LDAR/STLR/LDAPUR... fault only when they cross a 16-byte block),
 * WXN = 0, little-endian, no PAC/BTI, EnRCTX = 0, UMA = 0. MTE: ATA = ATA0 = 1,
 * TCF = TCF0 = 0 (no checks) until a test enables them. */
#define SCTLR_MMU_OFF 0x34D5D99C       /* same without M */
#define SCTLR_ATA_BITS (3 << 42)

    .section .text.boot, "ax"
    .global _start
_start:
    msr     daifset, #0xf
#ifdef RT_SIMD
    /* Guests built with SIMD (Makefile: simd-*): FP/SIMD on before any C, which may use it
       (varargs save q0-q7, the compiler vectorises), FPCR = 0 (round to nearest, no flush). */
    mov     x0, #(3 << 20)
    msr     cpacr_el1, x0
    isb
    msr     fpcr, xzr
    msr     fpsr, xzr
#endif
    ldr     x0, =SCTLR_MMU_OFF
    msr     sctlr_el1, x0
    isb
    msr     spsel, #1
    ldr     x0, =__stack_top
    mov     sp, x0
    msr     pan, #0
    msr     uao, #0
    msr     dit, #0
    ldr     x0, =vectors
    msr     vbar_el1, x0

    /* zero .bss (16-byte aligned by the linker script) */
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b
2:
    /* MTE registers exist only when ID_AA64PFR1_EL1.MTE >= 2 (the -nomte guests run without). */
    mrs     x0, id_aa64pfr1_el1
    ubfx    x0, x0, #8, #4
    cmp     x0, #2
    cset    w0, hs
    ldr     x1, =rt_have_mte
    str     w0, [x1]
    cbz     w0, 4f
    msr     tco, #0
4:
    /* system registers with a defined starting value for every guest */
    msr     mdscr_el1, xzr
    msr     sp_el0, xzr
    msr     tpidr_el0, xzr
    msr     tpidrro_el0, xzr
    msr     tpidr_el1, xzr
    msr     contextidr_el1, xzr
    msr     elr_el1, xzr
    msr     spsr_el1, xzr
    msr     esr_el1, xzr
    msr     far_el1, xzr
    ldr     x0, =rt_have_mte
    ldr     w0, [x0]
    cbz     w0, 3f
    msr     gcr_el1, xzr            /* RRND = 0 (deterministic IRG), exclude nothing */
    msr     rgsr_el1, xzr           /* seed 0, tag 0 */
    msr     tfsr_el1, xzr
    msr     tfsre0_el1, xzr
3:
    isb

    bl      mmu_init                /* C, MMU off: builds the tables in .bss */

    ldr     x0, =MAIR_VALUE
    msr     mair_el1, x0
    ldr     x0, =(TCR_VALUE)
    msr     tcr_el1, x0
    ldr     x0, =pt_l1
    msr     ttbr0_el1, x0
    msr     ttbr1_el1, x0
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    ldr     x0, =(SCTLR_MMU_OFF | 1 | SCTLR_ATA_BITS)
    msr     sctlr_el1, x0
    isb

    mov     x0, #0
    bl      main
    bl      exit
3:  b       3b
    .ltorg

/* ---------------------------------------------------------------------------------------- */
    .section .text.vectors, "ax"
    .balign 2048
    .global vectors
vectors:
    .irp kind, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .balign 128
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       exc_common
    .endr

exc_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x1, x2, [sp, #F_ELR]
    mrs     x3, sp_el0
    str     x3, [sp, #F_SP_EL0]
    mov     x1, x0
    mov     x0, sp
    bl      exc_handler             /* returns 0: resume, 1: EL0 task finished */
    cbnz    x0, el0_task_done
    ldp     x1, x2, [sp, #F_ELR]
    msr     elr_el1, x1
    msr     spsr_el1, x2
    ldr     x3, [sp, #F_SP_EL0]
    msr     sp_el0, x3
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    add     sp, sp, #FRAME_SIZE
    eret

/* ---------------------------------------------------------------------------------------- */
/* u64 run_el0(u64 (*fn)(u64), u64 arg, u64 sp, u64 spsr_extra) */
    .text
    .global run_el0
run_el0:
    ldr     x9, =el0_ctx
    stp     x19, x20, [x9, #0]
    stp     x21, x22, [x9, #16]
    stp     x23, x24, [x9, #32]
    stp     x25, x26, [x9, #48]
    stp     x27, x28, [x9, #64]
    stp     x29, x30, [x9, #80]
    mov     x10, sp
    mrs     x11, daif
    mov     x12, xzr
    ldr     x13, =rt_have_mte
    ldr     w13, [x13]
    cbz     w13, 1f
    mrs     x12, tco
1:  stp     x10, x11, [x9, #96]
    str     x12, [x9, #112]
    msr     sp_el0, x2
    msr     elr_el1, x0
    msr     spsr_el1, x3            /* M = 0 (EL0t) plus whatever the caller asked for */
    mov     x0, x1
    ldr     x30, =el0_trampoline
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    mov     x9, xzr
    mov     x10, xzr
    mov     x11, xzr
    mov     x12, xzr
    mov     x29, xzr
    eret

el0_task_done:                      /* sp = exception frame; frame x0 = task's result */
    ldr     x0, [sp, #0]
    ldr     x9, =el0_ctx
    ldp     x19, x20, [x9, #0]
    ldp     x21, x22, [x9, #16]
    ldp     x23, x24, [x9, #32]
    ldp     x25, x26, [x9, #48]
    ldp     x27, x28, [x9, #64]
    ldp     x29, x30, [x9, #80]
    ldp     x10, x11, [x9, #96]
    ldr     x12, [x9, #112]
    mov     sp, x10
    msr     daif, x11               /* exception entry masked DAIF and set TCO: undo both */
    ldr     x13, =rt_have_mte
    ldr     w13, [x13]
    cbz     w13, 1f
    msr     tco, x12
1:  ret

    .global el0_trampoline
el0_trampoline:                     /* EL0 code: a task returning lands here */
    svc     #0
    b       el0_trampoline
    .ltorg

/* Semihosting: u64 semihost(u64 op, u64 arg) */
    .global semihost
semihost:
    hlt     #0xf000
    ret

/* u64 hvc_call(fn, a1, a2, a3) */
    .global hvc_call
hvc_call:
    hvc     #0
    ret

    .bss
    .balign 16
el0_ctx:
    .skip   128
