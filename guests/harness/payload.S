/*
 * Instruction-test harness: the patchable state block and payload slot, and the code that
 * enters and leaves the payload. See harness.c and guests/README.md for the contract.
 *
 *   harness_state    0x40081000  32 x u64: x0..x30 (slots 0..30), NZCV (slot 31, bits 31:28)
 *   harness_payload  0x40081100  HARNESS_PAYLOAD_WORDS (256) instruction words, NOPs as built
 *   then             0x40081500  "b harness_payload_done" (not part of the slot)
 *   harness_vstate   0x40081510  SIMD&FP state, opt-in: u64 flags (bit 0: load it and report
 *                                it), u64 FPCR, u64 FPSR, u64 0, then V0..V31 (16 bytes each,
 *                                little-endian); 544 bytes. All zero as built: the payload then
 *                                runs with CPACR_EL1.FPEN as the runtime left it (trapping).
 *
 * The payload runs at EL1 with SPSel = 0 (EL1t): its SP is SP_EL0, so it may do anything to
 * SP without breaking exception handling (exceptions use SP_EL1).
 */
    .file "payload.S"

#define STACK_TOP 0x40120000        /* initial SP (SP_EL0) for the payload */

    .section .text.fixed, "ax"
    .balign 4096
    .global harness_state
harness_state:
    /* default initial state: xN = N * 0x0101010101010101, NZCV = 0 */
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    .quad \n * 0x0101010101010101
    .endr
    .quad 0
    .global harness_payload
harness_payload:
    .rept 256
    nop
    .endr
    .global harness_payload_end
harness_payload_end:
    b       harness_payload_done
    .balign 16
    .global harness_vstate
harness_vstate:
    .skip   32 + 32 * 16

    .text
/* void harness_run(void): load the state, run the payload, store the result in harness_regs */
    .global harness_run
harness_run:
    ldr     x9, =harness_save
    stp     x19, x20, [x9, #0]
    stp     x21, x22, [x9, #16]
    stp     x23, x24, [x9, #32]
    stp     x25, x26, [x9, #48]
    stp     x27, x28, [x9, #64]
    stp     x29, x30, [x9, #80]
    mov     x10, sp
    str     x10, [x9, #96]
    ldr     x10, =STACK_TOP
    msr     sp_el0, x10
    msr     spsel, #0               /* from here on "sp" is SP_EL0 */
    bl      harness_load_v
    ldr     x30, =harness_state
    ldr     x0, [x30, #248]
    msr     nzcv, x0
    ldp     x0, x1, [x30, #0]
    ldp     x2, x3, [x30, #16]
    ldp     x4, x5, [x30, #32]
    ldp     x6, x7, [x30, #48]
    ldp     x8, x9, [x30, #64]
    ldp     x10, x11, [x30, #80]
    ldp     x12, x13, [x30, #96]
    ldp     x14, x15, [x30, #112]
    ldp     x16, x17, [x30, #128]
    ldp     x18, x19, [x30, #144]
    ldp     x20, x21, [x30, #160]
    ldp     x22, x23, [x30, #176]
    ldp     x24, x25, [x30, #192]
    ldp     x26, x27, [x30, #208]
    ldp     x28, x29, [x30, #224]
    ldr     x30, [x30, #240]
    b       harness_payload

harness_payload_done:
    msr     tpidr_el1, x0           /* free one register without touching memory */
    ldr     x0, =harness_regs
    stp     xzr, x1, [x0, #0]
    stp     x2, x3, [x0, #16]
    stp     x4, x5, [x0, #32]
    stp     x6, x7, [x0, #48]
    stp     x8, x9, [x0, #64]
    stp     x10, x11, [x0, #80]
    stp     x12, x13, [x0, #96]
    stp     x14, x15, [x0, #112]
    stp     x16, x17, [x0, #128]
    stp     x18, x19, [x0, #144]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    stp     x28, x29, [x0, #224]
    str     x30, [x0, #240]
    mrs     x1, nzcv
    str     x1, [x0, #248]
    mrs     x1, tpidr_el1
    str     x1, [x0, #0]
    mov     x1, sp                  /* SP_EL0 */
    str     x1, [x0, #256]
    msr     spsel, #1
    ldr     x9, =harness_save
    ldp     x19, x20, [x9, #0]
    ldp     x21, x22, [x9, #16]
    ldp     x23, x24, [x9, #32]
    ldp     x25, x26, [x9, #48]
    ldp     x27, x28, [x9, #64]
    ldp     x29, x30, [x9, #80]
    ldr     x10, [x9, #96]
    mov     sp, x10
    ret

/* With harness_vstate.flags bit 0: FPEN = 0b11 (no traps), then FPCR, FPSR and V0..V31. */
harness_load_v:
    ldr     x9, =harness_vstate
    ldr     x10, [x9]
    tbz     x10, #0, 1f
    mrs     x10, cpacr_el1
    orr     x10, x10, #(3 << 20)
    msr     cpacr_el1, x10
    isb
    ldp     x10, x11, [x9, #8]
    msr     fpcr, x10
    msr     fpsr, x11
    add     x9, x9, #32
    ldp     q0, q1, [x9], #32
    ldp     q2, q3, [x9], #32
    ldp     q4, q5, [x9], #32
    ldp     q6, q7, [x9], #32
    ldp     q8, q9, [x9], #32
    ldp     q10, q11, [x9], #32
    ldp     q12, q13, [x9], #32
    ldp     q14, q15, [x9], #32
    ldp     q16, q17, [x9], #32
    ldp     q18, q19, [x9], #32
    ldp     q20, q21, [x9], #32
    ldp     q22, q23, [x9], #32
    ldp     q24, q25, [x9], #32
    ldp     q26, q27, [x9], #32
    ldp     q28, q29, [x9], #32
    ldp     q30, q31, [x9], #32
1:  ret

/*
 * void harness_save_v(u64 *out): V0..V31 (low, high u64 each) to out[0..63], FPCR to out[64],
 * FPSR to out[65]. Only called when the payload ran with harness_vstate.flags bit 0 (FPEN on).
 */
    .global harness_save_v
harness_save_v:
    stp     q0, q1, [x0], #32
    stp     q2, q3, [x0], #32
    stp     q4, q5, [x0], #32
    stp     q6, q7, [x0], #32
    stp     q8, q9, [x0], #32
    stp     q10, q11, [x0], #32
    stp     q12, q13, [x0], #32
    stp     q14, q15, [x0], #32
    stp     q16, q17, [x0], #32
    stp     q18, q19, [x0], #32
    stp     q20, q21, [x0], #32
    stp     q22, q23, [x0], #32
    stp     q24, q25, [x0], #32
    stp     q26, q27, [x0], #32
    stp     q28, q29, [x0], #32
    stp     q30, q31, [x0], #32
    mrs     x1, fpcr
    mrs     x2, fpsr
    stp     x1, x2, [x0]
    ret
    .ltorg

    .bss
    .balign 16
harness_save:
    .skip   112
    .global harness_regs
harness_regs:                       /* x0..x30, NZCV, SP */
    .skip   264
