/*
 * The virtio-blk throughput workload of `npm run bench` (bench/virtio.ts). Sector 0 of disk0
 * holds its configuration: "TVBENCH\0", then le32 request bytes, request count, bounce (0/1),
 * write (0/1). The guest prints "go", performs the requests into (or from) a 1 MiB MTE-tagged
 * buffer, and prints "done" (both on the semihosting console, which reaches the VMM at that
 * instruction, unlike the buffered UART); the host times the interval. Without a configuration (as in the
 * differential suite, whose disk0 is the test disk) it says so and exits.
 */
#include "virtio.h"

#define BENCH_BUF 0x40C00000UL          /* 1 MiB, tagged 3 */

int irq_handler(struct frame *f, u64 kind)
{
    (void)f;
    if (kind != 5)
        return 0;
    u32 intid = (u32)read_sysreg(ICC_IAR1_EL1);
    if (intid >= 48 && intid < 80)
        virtio_irq(intid);
    if (intid < 1020)
        write_sysreg(ICC_EOIR1_EL1, intid);
    isb();
    return 1;
}

int main(void)
{
    gic_init();
    irq_enable();
    /* The configuration is read through the bounce pool, which works with either DMA path. */
    share_pages(DEV_AREA, DEV_AREA_SIZE / 4096);
    struct vdev d;
    u32 st = vdev_init(&d, 31, 0, 1UL << 32, 1);
    static u8 cfg[512] __attribute__((aligned(16)));
    u32 s = blk_rw(&d, 0, 0, cfg, 512);
    if (st != 0xf || s != 0 || memcmp(cfg, "TVBENCH", 8) != 0) {
        printf("virtio-blk-bench: no benchmark configuration on disk0 (status %x, read %u)\n", st, s);
        return 0;
    }
    u32 bytes = *(u32 *)(cfg + 8), count = *(u32 *)(cfg + 12), bounce = *(u32 *)(cfg + 16), write = *(u32 *)(cfg + 20);
    if (bytes == 0 || bytes > 0x100000 || bytes % 512 || count == 0) {
        printf("virtio-blk-bench: bad configuration\n");
        return 1;
    }
    d.bounce = bounce != 0;
    mte_config(TCF_SYNC, TCF_NONE, 1, 1);
    u64 buf = WITH_TAG(BENCH_BUF, 3);
    for (u64 off = 0; off < 0x100000; off += 32)
        st2g(buf + off);
    u64 cap = *(volatile u32 *)(d.base + 0x100) | ((u64)*(volatile u32 *)(d.base + 0x104) << 32);
    u64 span = cap - 1 - bytes / 512;
    semihost_write0("go\n");       /* semihosting: the VMM sees it at this very instruction */
    u32 bad = 0;
    for (u32 i = 0; i < count; i++) {
        u64 sector = 1 + ((u64)i * (bytes / 512)) % span;
        if (blk_rw(&d, write ? 1 : 0, sector, (void *)buf, bytes) != 0)
            bad++;
    }
    semihost_write0("done\n");
    printf("requests %u, failed %u\n", count, bad);
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
    return bad ? 2 : 0;
}
