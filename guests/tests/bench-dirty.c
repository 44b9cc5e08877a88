/*
 * bench-dirty: keeps dirtying memory and tags, for the live-migration benchmark (downtime while
 * the guest writes continuously). It sweeps a 32 MiB window page by page, writing a word in each
 * page and retagging one granule of every 8th page with STG, for a fixed number of sweeps, then
 * prints a checksum of what it wrote (~6 M instructions). A host that writes a non-zero word at
 * FOREVER before boot (the migration benchmark) makes it sweep until the VM is stopped.
 */
#include "rt.h"

#define WINDOW      0x42000000UL     /* Normal Tagged, EL1 RW */
#define WINDOW_SIZE 0x02000000UL
#define PAGE        4096UL
#define FOREVER     0x41fff000UL     /* zero in a fresh VM */

int main(void)
{
    u64 sum = 0;
    printf("bench-dirty (MTE %s)\n", rt_have_mte ? "on" : "off");
    if (rt_have_mte) {
        write_sysreg(rgsr_el1, 0x1234500);
        mte_config(TCF_SYNC, TCF_SYNC, 1, 1);
    }
    int forever = *(volatile u64 *)FOREVER != 0;
    for (u64 sweep = 0; forever || sweep < 40; sweep++) {
        for (u64 off = 0; off < WINDOW_SIZE; off += PAGE) {
            u64 addr = WINDOW + off + ((sweep * 64) & (PAGE - 1));   /* 16-byte aligned */
            u64 *word = (u64 *)addr;
            if (rt_have_mte && ((off / PAGE) & 7) == (sweep & 7)) {
                word = (u64 *)WITH_TAG(addr, sweep & 15);
                stg((u64)word);                       /* a tag-only change on this page */
            } else if (rt_have_mte) {
                word = (u64 *)ldg(addr);               /* the granule's current tag */
            }
            *word = sweep * 0x9e3779b97f4a7c15UL ^ off;
            sum += *word;
        }
    }
    printf("checksum %016lx\n", sum);
    return 0;
}
