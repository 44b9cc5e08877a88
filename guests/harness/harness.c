/*
 * Instruction-test harness (guests/build/harness.elf). Contract (also in guests/README.md):
 *
 *   Patch in a copy of the ELF (file offset = vaddr - p_vaddr + p_offset of the PT_LOAD that
 *   holds it; symbols harness_state / harness_payload in .symtab):
 *     harness_state   0x40081000  256 bytes: u64 x0..x30 in slots 0..30, NZCV in slot 31
 *                                 (bits 31:28; other bits ignored)
 *     harness_payload 0x40081100  256 instruction words (1 KiB), NOP-filled. Execution falls
 *                                 off the end of the slot into the harness.
 *   Machine state when the first payload word executes:
 *     EL1, SPSel = 0 (SP is SP_EL0 = 0x40120000), DAIF masked, PSTATE.TCO = 0, PAN = UAO = 0.
 *     x0..x30 and NZCV from harness_state (x29, x30 included: nothing is reserved).
 *     MMU on (see runtime/mmu.c). Scratch RAM 0x40100000..0x4010FFFF (64 KiB), Normal Tagged,
 *     EL1 RW, all allocation tags 0, byte at offset j = (j * 31 + 0x81) mod 256.
 *     Stack area 0x40110000..0x4011FFFF (not reported). Text is read-only.
 *     SCTLR_EL1 = runtime value with ATA = ATA0 = 1, TCF = 1 (synchronous tag checks),
 *     TCF0 = 0; GCR_EL1 = 0 (RRND = 0, no exclusions); RGSR_EL1 = 0xace100 (seed 0xace1, tag 0);
 *     TCR_EL1.TCMA0 = TCMA1 = 0; TFSR_EL1 = TFSRE0_EL1 = 0.
 *   Output (UART), exit status 0:
 *     "x0 <16 hex>" ... "x30 <16 hex>", "nzcv <8 hex>", "sp <16 hex>", then each scratch
 *     8-byte word that differs from the initial pattern as "mem +<offset> <16 hex>" (at most
 *     64 lines, then "mem ... more"), "mem changed <n>", each granule with a non-zero tag as
 *     "tag +<offset> <hex>" (at most 64), "tags nonzero <n>", "tfsr <hex> <hex>"
 *     (TFSR_EL1, TFSRE0_EL1), "done".
 *   A synchronous exception (or any exception) while the payload runs prints
 *     "exception ESR=<8 hex> FAR=<16 hex> ELR=payload+<hex>" (FAR is printed as 0 when the
 *     architecture leaves it UNKNOWN for that EC), then the registers at the exception
 *     ("x0".."x30", "nzcv" from SPSR, "sp") and exits with status 3.
 *   SIMD&FP state (opt-in, so transcripts of cases without it keep their format): when
 *   harness_vstate (0x40081510) has flags bit 0 set, the payload also starts with CPACR_EL1.FPEN
 *   = 0b11, FPCR, FPSR and V0..V31 from that block, and every register report (normal or at an
 *   exception) is followed by "v0 <32 hex>" ... "v31 <32 hex>" (most significant byte first),
 *   "fpcr <8 hex>", "fpsr <8 hex>".
 *   A payload that never finishes is the caller's problem (QEMU timeout / --max-insns).
 */
#include "rt.h"

#define SCRATCH      0x40100000UL
#define SCRATCH_SIZE 0x10000UL
#define PAYLOAD_EXIT 3

extern u64 harness_regs[33];
extern char harness_payload[];
extern volatile u64 harness_vstate[4 + 64];
void harness_run(void);
void harness_save_v(u64 *out);

static u64 vregs[66];

static volatile int payload_running;

static u8 pattern(u64 j) { return (u8)(j * 31 + 0x81); }

static void print_regs(const u64 *x, u64 nzcv, u64 sp)
{
    for (int i = 0; i < 31; i++)
        printf("x%d %016lx\n", i, x[i]);
    printf("nzcv %08lx\n", nzcv & 0xf0000000UL);
    printf("sp %016lx\n", sp);
    if (!(harness_vstate[0] & 1))
        return;
    /* The harness's own code never touches SIMD&FP registers (-mgeneral-regs-only). */
    harness_save_v(vregs);
    for (int i = 0; i < 32; i++)
        printf("v%d %016lx%016lx\n", i, vregs[2 * i + 1], vregs[2 * i]);
    printf("fpcr %08lx\n", vregs[64]);
    printf("fpsr %08lx\n", vregs[65]);
}

void unexpected_exception(struct frame *f, u64 kind, u64 esr, u64 far)
{
    (void)kind;
    if (!payload_running)
        return;   /* a harness bug: let the runtime report it */
    u64 ec = ESR_EC(esr);
    int far_ok = ec == 0x20 || ec == 0x21 || ec == 0x22 || ec == 0x24 || ec == 0x25;
    printf("exception ESR=%08lx FAR=%016lx ELR=payload+%lx\n", esr, far_ok ? far : 0,
           f->elr - (u64)harness_payload);
    print_regs(f->x, f->spsr, f->sp_el0);
    exit(PAYLOAD_EXIT);
}

static u64 word_pattern(u64 off)
{
    u64 w = 0;
    for (int b = 7; b >= 0; b--)
        w = (w << 8) | pattern(off + (u64)b);
    return w;
}

int main(void)
{
    for (u64 j = 0; j < SCRATCH_SIZE; j++)
        *(volatile u8 *)(SCRATCH + j) = pattern(j);
    for (u64 off = 0; off < SCRATCH_SIZE; off += 256)
        stgm(SCRATCH + off, 0);
    write_sysreg(gcr_el1, 0);
    write_sysreg(rgsr_el1, 0xace1UL << 8);
    write_sysreg(tfsr_el1, 0);
    write_sysreg(tfsre0_el1, 0);
    tcr_tcma(0, 0);
    mte_config(TCF_SYNC, TCF_NONE, 1, 1);

    payload_running = 1;
    harness_run();
    payload_running = 0;
    /* whatever the payload did to PSTATE, report with checks off */
    __asm__ volatile("msr tco, #1" ::: "memory");
    mte_config(TCF_NONE, TCF_NONE, 1, 1);

    print_regs(harness_regs, harness_regs[31], harness_regs[32]);

    int changed = 0, nonzero = 0;
    for (u64 off = 0; off < SCRATCH_SIZE; off += 8) {
        u64 w = *(volatile u64 *)(SCRATCH + off);
        if (w != word_pattern(off)) {
            if (changed < 64)
                printf("mem +%04lx %016lx\n", off, w);
            changed++;
        }
    }
    if (changed > 64)
        puts("mem ... more\n");
    printf("mem changed %d\n", changed);
    for (u64 off = 0; off < SCRATCH_SIZE; off += 256) {
        u64 tags = ldgm(SCRATCH + off);
        for (int g = 0; g < 16; g++) {
            u64 t = (tags >> (4 * g)) & 0xf;
            if (t) {
                if (nonzero < 64)
                    printf("tag +%04lx %lx\n", off + 16 * (u64)g, t);
                nonzero++;
            }
        }
    }
    if (nonzero > 64)
        puts("tag ... more\n");
    printf("tags nonzero %d\n", nonzero);
    printf("tfsr %lx %lx\n", read_sysreg(tfsr_el1), read_sysreg(tfsre0_el1));
    puts("done\n");
    return 0;
}
