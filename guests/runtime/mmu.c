/*
 * Stage-1 translation tables (4 KiB granule, 39-bit VA, walk starts at level 1), built at boot
 * with the MMU off. TTBR0 and TTBR1 point at the same level-1 table, so the upper-half VA
 * 0xFFFFFF80_00000000 + x translates exactly like x.
 *
 *   VA                       PA            attributes
 *   0x00000000-0x3FFFFFFF    same          1 GiB block, Device-nGnRE, EL1 RW, XN  (UART)
 *   0x40000000-0x401FFFFF    same          4 KiB pages: [__text_start, __text_end) read-only
 *                                          at EL1 and EL0, executable at both; everything
 *                                          else EL1 RW, XN. Normal Tagged.
 *   0x40200000-0x403FFFFF    same          2 MiB block, EL0+EL1 RW, XN, Normal Tagged (user)
 *   0x40400000-0x405FFFFF    same          4 KiB pages, Normal Tagged, EL1 RW, XN, except
 *                                          0x40408000 Normal untagged, 0x40409000 invalid,
 *                                          0x4040B000 read-only (EL1)
 *   0x40600000-0x4FFFFFFF    same          2 MiB blocks, Normal Tagged, EL1 RW, XN
 *   0x80000000-0xBFFFFFFF    0x40000000+   1 GiB block, Normal NOT tagged, EL0+EL1 RW, XN
 */
#include "rt.h"

#define D_BLOCK   1UL
#define D_TABLE   3UL
#define D_PAGE    3UL
#define ATTR(i)   ((u64)(i) << 2)
#define A_TAGGED  ATTR(0)
#define A_NORMAL  ATTR(1)
#define A_DEVICE  ATTR(2)
#define AP_EL1_RW (0UL << 6)
#define AP_ALL_RW (1UL << 6)
#define AP_EL1_RO (2UL << 6)
#define AP_ALL_RO (3UL << 6)
#define SH_INNER  (3UL << 8)
#define AF        (1UL << 10)
#define PXN       (1UL << 53)
#define UXN       (1UL << 54)
#define XN        (PXN | UXN)

#define MEM_RW    (A_TAGGED | SH_INNER | AF | AP_EL1_RW | XN)

u64 pt_l1[512] __attribute__((aligned(4096), section(".bss.pt")));
static u64 pt_l2_ram[512] __attribute__((aligned(4096), section(".bss.pt")));
static u64 pt_l3_image[512] __attribute__((aligned(4096), section(".bss.pt")));
static u64 pt_l3_test[512] __attribute__((aligned(4096), section(".bss.pt")));

extern char __text_start[], __text_end[];

void mmu_init(void)
{
    u64 text_lo = (u64)__text_start, text_hi = (u64)__text_end;

    pt_l1[0] = 0x00000000UL | D_BLOCK | A_DEVICE | AF | AP_EL1_RW | XN;
    pt_l1[1] = (u64)pt_l2_ram | D_TABLE;
    pt_l1[2] = 0x40000000UL | D_BLOCK | A_NORMAL | SH_INNER | AF | AP_ALL_RW | XN;

    for (int i = 0; i < 128; i++) {
        u64 pa = RAM_BASE + ((u64)i << 21);
        u64 d;
        if (i == 0)
            d = (u64)pt_l3_image | D_TABLE;
        else if (i == 1)
            d = pa | D_BLOCK | A_TAGGED | SH_INNER | AF | AP_ALL_RW | XN;
        else if (i == 2)
            d = (u64)pt_l3_test | D_TABLE;
        else
            d = pa | D_BLOCK | MEM_RW;
        pt_l2_ram[i] = d;
    }

    for (int j = 0; j < 512; j++) {
        u64 pa = RAM_BASE + ((u64)j << 12);
        if (pa >= text_lo && pa < text_hi)
            pt_l3_image[j] = pa | D_PAGE | A_TAGGED | SH_INNER | AF | AP_ALL_RO;
        else
            pt_l3_image[j] = pa | D_PAGE | MEM_RW;
    }

    for (int j = 0; j < 512; j++) {
        u64 pa = TEST_BASE + ((u64)j << 12);
        u64 d = pa | D_PAGE | MEM_RW;
        if (pa == TEST_UNTAGGED_PG)
            d = pa | D_PAGE | A_NORMAL | SH_INNER | AF | AP_EL1_RW | XN;
        else if (pa == TEST_UNMAPPED_PG)
            d = 0;
        else if (pa == TEST_RO_PG)
            d = pa | D_PAGE | A_TAGGED | SH_INNER | AF | AP_EL1_RO | XN;
        pt_l3_test[j] = d;
    }
    dsb();
}
