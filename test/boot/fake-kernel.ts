import { assemble } from '../support/asm.js';

/**
 * A bare-metal "kernel" in arm64 Image format: the 64-byte header, then code that reports its
 * boot state over the PL011 (x0, x1..x3, CurrentEL, SCTLR_EL1.M, DAIF), the DTB magic at x0,
 * /chosen bootargs, the first 8 bytes at linux,initrd-start, and ends with PSCI SYSTEM_OFF (or
 * SYSTEM_RESET).
 * The same file boots on QEMU (-kernel), which makes the boot protocol a differential test.
 */
const SOURCE = String.raw`
_start:
    b       real
    .word   0
    .quad   0                       // text_offset
    .quad   image_end - _start      // image_size
    .quad   FLAGS                   // flags
    .quad   0, 0, 0
    .ascii  MAGIC
    .word   0
real:
    mov     x19, x0
    orr     x20, x1, x2
    orr     x20, x20, x3
    adr     x0, s_x0
    bl      puts
    mov     x0, x19
    bl      puthex
    adr     x0, s_args
    bl      puts
    mov     x0, x20
    bl      puthex
    adr     x0, s_el
    bl      puts
    mrs     x0, CurrentEL
    bl      puthex
    adr     x0, s_mmu
    bl      puts
    mrs     x0, sctlr_el1
    and     x0, x0, #1
    bl      puthex
    adr     x0, s_daif
    bl      puts
    mrs     x0, daif
    bl      puthex
    adr     x0, s_magic
    bl      puts
    ldr     w0, [x19]
    rev     w0, w0
    bl      puthex
    adr     x0, s_bootargs
    bl      puts
    adr     x0, n_bootargs
    bl      findprop
    cbz     x0, 1f
    bl      puts
1:  adr     x0, s_initrd
    bl      puts
    adr     x0, n_initrd
    bl      findprop
    cbz     x0, 2f
    ldr     w2, [x0]
    rev     w2, w2
    cmp     x1, #8
    b.ne    3f
    ldr     w3, [x0, #4]
    rev     w3, w3
    orr     x2, x3, x2, lsl #32
3:  ldr     x0, [x2]
    rev     x0, x0
    bl      puthex
2:  adr     x0, s_nl
    bl      puts
    movz    x0, #PSCI_FN
    movk    x0, #0x8400, lsl #16
    hvc     #0
    b       .

// puts(x0 = NUL-terminated string); clobbers x0-x2
puts:
    movz    x1, #0x0900, lsl #16
4:  ldrb    w2, [x0], #1
    cbz     w2, 5f
    strb    w2, [x1]
    b       4b
5:  ret

// puthex(x0): 16 hex digits; clobbers x0-x4
puthex:
    movz    x1, #0x0900, lsl #16
    mov     x3, #60
6:  lsr     x2, x0, x3
    and     x2, x2, #15
    add     x4, x2, #'0'
    cmp     x2, #10
    b.lo    7f
    add     x4, x2, #('a' - 10)
7:  strb    w4, [x1]
    subs    x3, x3, #4
    b.pl    6b
    ret

// findprop(x0 = name): x0 = value (0 if absent), x1 = length. Walks the structure block of the
// DTB at x19 and matches the first property with that name; clobbers x0-x15.
findprop:
    mov     x9, x0
    ldr     w10, [x19, #8]
    rev     w10, w10
    add     x10, x19, x10           // token pointer
    ldr     w11, [x19, #12]
    rev     w11, w11
    add     x11, x19, x11           // strings block
10: ldr     w12, [x10], #4
    rev     w12, w12
    cmp     w12, #1
    b.eq    11f
    cmp     w12, #3
    b.eq    13f
    cmp     w12, #9
    b.ne    10b
    mov     x0, #0
    ret
11: ldrb    w13, [x10], #1          // FDT_BEGIN_NODE: skip the name and its padding
    cbnz    w13, 11b
    add     x10, x10, #3
    and     x10, x10, #~3
    b       10b
13: ldr     w13, [x10], #4          // FDT_PROP: len, nameoff, value
    rev     w13, w13
    ldr     w14, [x10], #4
    rev     w14, w14
    add     x14, x11, x14
    mov     x15, x9
14: ldrb    w0, [x14], #1
    ldrb    w1, [x15], #1
    cmp     w0, w1
    b.ne    15f
    cbnz    w0, 14b
    mov     x0, x10
    mov     x1, x13
    ret
15: add     x10, x10, x13
    add     x10, x10, #3
    and     x10, x10, #~3
    b       10b

s_x0:       .asciz "x0="
s_args:     .asciz "\nx1|x2|x3="
s_el:       .asciz "\nCurrentEL="
s_mmu:      .asciz "\nSCTLR_EL1.M="
s_daif:     .asciz "\nDAIF="
s_magic:    .asciz "\nDTB magic="
s_bootargs: .asciz "\nbootargs="
s_initrd:   .asciz "\ninitrd[0..8]="
s_nl:       .asciz "\n"
n_bootargs: .asciz "bootargs"
n_initrd:   .asciz "linux,initrd-start"
    .balign 8
image_end:
`;

export interface FakeKernelOptions {
  /** Header flags (default 2: little-endian, 4 KiB pages). */
  readonly flags?: number;
  /** The 4 magic bytes at offset 56 (default the real one, "ARMd"). */
  readonly magic?: string;
  /** How it ends: PSCI SYSTEM_OFF (default) or SYSTEM_RESET. */
  readonly end?: 'off' | 'reset';
}

/** Assembles the fake kernel (needs aarch64-linux-gnu-as, see test/support/asm.ts). */
export function fakeKernel(options: FakeKernelOptions = {}): Uint8Array {
  // "ARM\x64" is "ARMd": 0x64 is 'd'.
  const source = SOURCE.replace('FLAGS', String(options.flags ?? 2)).replace('MAGIC', JSON.stringify(options.magic ?? 'ARMd')).replace('PSCI_FN', options.end === 'reset' ? '9' : '8');
  return assemble(source);
}
