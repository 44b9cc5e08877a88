/*
 * The virtio-blk test shared by virtio-blk (direct DMA) and virtio-blk-bounce (bounce pool):
 * probing the transports, negotiation, reads and writes into MTE-tagged buffers, flush, get-id,
 * error statuses, a read-only disk. After every transfer the data is checked through the
 * buffers' tagged pointers with synchronous tag checks on, the buffers' allocation tags are
 * printed (unchanged by DMA), and an access with a wrong tag must still fault.
 *
 * Disks (guests/devices.sh): slot 31 = disk0 (64 KiB, read-write, serial tagvisor-disk0),
 * slot 30 = disk1 (16 KiB, read-only, serial tagvisor-disk1).
 */
#include "virtio.h"

#define F_RO        (1UL << 5)
#define F_BLK_SIZE  (1UL << 6)
#define F_FLUSH     (1UL << 9)
#define F_VERSION_1 (1UL << 32)

#define BUF_A  0x40900000UL      /* 4 KiB, every granule tagged 5 */
#define BUF_B  0x40902000UL      /* 4 KiB, granule i tagged 1 + i % 15 */
#define BUF_ID 0x40904000UL

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

static u32 checksum(const u8 *p, u32 n)
{
    u32 h = 2166136261u;
    for (u32 i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void tag_granules(u64 base, u32 len, int varied)
{
    for (u32 off = 0; off < len; off += 16)
        stg(WITH_TAG(base + off, varied ? 1 + (off / 16) % 15 : 5));
}

/* The tagged pointer of granule 0 of a buffer (whose granules may have different tags). */
static u8 *tagged(u64 base, int varied) { return (u8 *)WITH_TAG(base, varied ? 1 : 5); }

/* Reads through each granule's own tagged pointer: every checked access must pass. */
static u32 checked_sum(u64 base, u32 len, int varied)
{
    u32 h = 2166136261u;
    for (u32 off = 0; off < len; off++) {
        u8 *p = (u8 *)WITH_TAG(base + off, varied ? 1 + (off / 16) % 15 : 5);
        h = (h ^ *(volatile u8 *)p) * 16777619u;
    }
    return h;
}

static void wrong_tag_faults(u64 base, const char *what)
{
    expect_fault();
    (void)*(volatile u8 *)WITH_TAG(base + 32, 0xe);
    report_fault(what);
}

static int run_blk_test(int bounce)
{
    printf("dma mode: %s\n", bounce ? "bounce pool" : "direct");
    int empty = 0;
    for (int slot = 0; slot < 32; slot++) {
        u64 b = VIRTIO_BASE(slot);
        u32 magic = *(volatile u32 *)b, ver = *(volatile u32 *)(b + 4), id = *(volatile u32 *)(b + 8);
        if (id == 0)
            empty++;
        else
            printf("slot %d: magic %x version %u device %u\n", slot, magic, ver, id);
    }
    printf("empty slots: %d\n", empty);

    gic_init();
    if (bounce) {
        i64 r = share_pages(DEV_AREA, DEV_AREA_SIZE / 4096);
        printf("bounce pool declared (%lu pages)\n", DEV_AREA_SIZE / 4096);
        (void)r;   /* QEMU has no vendor hypervisor services: the pool is plain memory there */
    }
    irq_enable();

    struct vdev d0, d1;
    u32 st = vdev_init(&d0, 31, 0, F_VERSION_1 | F_FLUSH | F_BLK_SIZE, bounce);
    printf("disk0: status %x version_1 %lu flush %lu ro %lu\n", st, (d0.features >> 32) & 1, (d0.features >> 9) & 1, (d0.features >> 5) & 1);
    u64 cap = *(volatile u32 *)(d0.base + 0x100) | ((u64)*(volatile u32 *)(d0.base + 0x104) << 32);
    printf("disk0: capacity %lu sectors, blk_size %u\n", cap, (d0.features & F_BLK_SIZE) ? *(volatile u32 *)(d0.base + 0x114) : 512);

    mte_config(TCF_SYNC, TCF_NONE, 1, 1);
    tag_granules(BUF_A, 4096, 0);
    tag_granules(BUF_B, 4096, 1);
    u8 *a = tagged(BUF_A, 0);
    memset(a, 0x11, 4096);

    /* Read sector 0 (the disk's label) into the tagged buffer. */
    u32 s = blk_rw(&d0, 0, 0, a, 512);
    printf("read sector 0: status %u used len %u label '", s, d0.last_len);
    for (int i = 0; i < 32 && a[i] >= 32 && a[i] < 127; i++)
        putc(a[i]);
    puts("'\n");
    printf("  rest of buffer untouched: %s\n", a[512] == 0x11 && a[4095] == 0x11 ? "yes" : "NO");
    printf("  tags after dma: ");
    print_tags(BUF_A, 40);
    printf("\n  checked read through tagged pointers: %08x\n", checked_sum(BUF_A, 512, 0));
    wrong_tag_faults(BUF_A, "  wrong tag still faults");

    /* Write 8 sectors from a buffer with a different tag in every granule, read them back. */
    u8 *b = tagged(BUF_B, 1);
    for (u32 i = 0; i < 4096; i++)
        *(volatile u8 *)WITH_TAG(BUF_B + i, 1 + (i / 16) % 15) = (u8)(i * 7 + 3);
    u32 want = checked_sum(BUF_B, 4096, 1);
    s = blk_rw(&d0, 1, 8, b, 4096);
    printf("write sectors 8-15: status %u used len %u\n", s, d0.last_len);
    printf("  source tags unchanged: ");
    print_tags(BUF_B, 20);
    putc('\n');
    s = blk_rw(&d0, 4, 0, NULL, 0);
    printf("flush: status %u used len %u\n", s, d0.last_len);
    memset(a, 0, 4096);
    s = blk_rw(&d0, 0, 8, a, 4096);
    u32 got = checked_sum(BUF_A, 4096, 0);
    printf("read sectors 8-15 back: status %u used len %u data %s (%08x)\n", s, d0.last_len, got == want ? "matches" : "DIFFERS", got);
    printf("  tags after dma: ");
    print_tags(BUF_A, 40);
    putc('\n');
    wrong_tag_faults(BUF_A, "  wrong tag still faults");

    /* Read into the buffer with varied tags: every granule keeps its own tag. */
    memset((void *)WITH_TAG(BUF_B, 1), 0, 16);
    s = blk_rw(&d0, 0, 0, b, 1024);
    printf("read 2 sectors into varied-tag buffer: status %u checked sum %08x\n", s, checked_sum(BUF_B, 1024, 1));
    printf("  tags after dma: ");
    print_tags(BUF_B, 64);
    putc('\n');
    wrong_tag_faults(BUF_B, "  wrong tag still faults");

    /* get-id */
    u8 *id = (u8 *)BUF_ID;
    memset(id, 0, 32);
    s = blk_rw(&d0, 8, 0, id, 20);
    printf("get-id: status %u id '%s'\n", s, (char *)id);

    /* Errors. */
    s = blk_rw(&d0, 0, cap, a, 512);
    printf("read past the end: status %u\n", s);
    s = blk_rw(&d0, 0, cap - 1, a, 1024);
    printf("read across the end: status %u\n", s);
    s = blk_rw(&d0, 99, 0, a, 512);
    printf("unknown request type: status %u\n", s);

    /* The read-only disk. */
    u32 st1 = vdev_init(&d1, 30, 1, F_VERSION_1 | F_RO | F_FLUSH, bounce);
    printf("disk1: status %x ro %lu\n", st1, (d1.features >> 5) & 1);
    memset(a, 0x5a, 512);
    s = blk_rw(&d1, 1, 0, a, 512);
    printf("write to read-only disk: status %u\n", s);
    memset(a, 0, 512);
    s = blk_rw(&d1, 0, 0, a, 512);
    printf("read-only disk sector 0: status %u label '", s);
    for (int i = 0; i < 40 && a[i] >= 32 && a[i] < 127; i++)
        putc(a[i]);
    puts("'\n");
    printf("interrupts: %s, isr bits %x\n", virtio_irqs > 0 ? "taken" : "NONE", virtio_isr_bits);
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
    return 0;
}
