/*
 * A minimal virtio-mmio (modern, version 2) block driver for bare-metal guests: one split
 * virtqueue, one request at a time, completion by interrupt (GICv3 SPI 16 + slot) with WFI.
 *
 * DMA modes: direct (the device reads/writes the caller's buffer in place) or bounce
 * (swiotlb-style: everything the device touches, rings included, lives in a pool the driver
 * shares with the host through the MEM_SHARE hypercall; data is copied through the pool).
 * See docs/devices.md for the hypercall ABI.
 */
#ifndef VIRTIO_H
#define VIRTIO_H
#include "gic.h"

#define VIRTIO_BASE(slot)  (0x0A000000UL + 0x200UL * (slot))
#define VIRTIO_INTID(slot) (48 + (slot))
#define VQ_SIZE            16

/* Device-visible memory: rings, request headers, status bytes, bounce buffers. Normal Tagged
 * RAM (tag 0, never retagged); shared as a whole in bounce mode. */
#define DEV_AREA      0x40A00000UL
#define DEV_AREA_SIZE 0x00200000UL          /* 2 MiB: 4 KiB of rings + headers, then bounce data */
#define BOUNCE_DATA   (DEV_AREA + 0x4000UL)
#define BOUNCE_MAX    (DEV_AREA_SIZE - 0x4000UL)

struct vdesc { u64 addr; u32 len; u16 flags; u16 next; };
struct vavail { u16 flags; u16 idx; u16 ring[VQ_SIZE]; };
struct vused_elem { u32 id; u32 len; };
struct vused { u16 flags; u16 idx; struct vused_elem ring[VQ_SIZE]; };

struct blk_req_hdr { u32 type; u32 reserved; u64 sector; };

struct vdev {
    u64 base;
    int slot;
    int bounce;
    u64 features;            /* offered by the device */
    volatile struct vdesc *desc;
    volatile struct vavail *avail;
    volatile struct vused *used;
    volatile struct blk_req_hdr *hdr;
    volatile u8 *status;
    u16 last_used;
    u32 last_len;            /* used length of the last request */
};

#define VREG(d, off) (*(volatile u32 *)((d)->base + (off)))

static volatile u32 virtio_irqs;     /* interrupts seen, all devices */
static volatile u32 virtio_isr_bits; /* InterruptStatus bits acknowledged */

/* Call from irq_handler for INTIDs of virtio slots: acknowledges the transport. */
static void virtio_irq(u32 intid)
{
    u64 base = VIRTIO_BASE(intid - 48);
    u32 isr = *(volatile u32 *)(base + 0x60);
    *(volatile u32 *)(base + 0x64) = isr;
    virtio_isr_bits |= isr;
    virtio_irqs++;
}

#define HYP_MEM_SHARE 0xC6000003UL
static i64 share_pages(u64 pa, u64 pages)
{
    return (i64)hvc_call(HYP_MEM_SHARE, pa, pages, 0);
}

/* Initialise slot's device (§3.1.1): reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queue 0,
 * DRIVER_OK. Each device gets its own 4 KiB of the device area. Returns the final status. */
static u32 vdev_init(struct vdev *d, int slot, int index, u64 want, int bounce)
{
    d->base = VIRTIO_BASE(slot);
    d->slot = slot;
    d->bounce = bounce;
    u64 area = DEV_AREA + 0x1000UL * (u64)index;
    d->desc = (volatile struct vdesc *)area;
    d->avail = (volatile struct vavail *)(area + 0x400);
    d->used = (volatile struct vused *)(area + 0x600);
    d->hdr = (volatile struct blk_req_hdr *)(area + 0x800);
    d->status = (volatile u8 *)(area + 0x900);
    d->last_used = 0;
    memset((void *)area, 0, 0x1000);
    VREG(d, 0x70) = 0;
    VREG(d, 0x70) = 1;
    VREG(d, 0x70) = 1 | 2;
    VREG(d, 0x14) = 0;
    u64 f = VREG(d, 0x10);
    VREG(d, 0x14) = 1;
    f |= (u64)VREG(d, 0x10) << 32;
    d->features = f;
    u64 accept = f & want;
    VREG(d, 0x24) = 0;
    VREG(d, 0x20) = (u32)accept;
    VREG(d, 0x24) = 1;
    VREG(d, 0x20) = (u32)(accept >> 32);
    VREG(d, 0x70) = 1 | 2 | 8;
    if (!(VREG(d, 0x70) & 8))
        return VREG(d, 0x70);
    VREG(d, 0x30) = 0;
    u32 max = VREG(d, 0x34);
    if (max < VQ_SIZE)
        return 0xdead;
    VREG(d, 0x38) = VQ_SIZE;
    VREG(d, 0x80) = (u32)(u64)d->desc;
    VREG(d, 0x84) = (u32)((u64)d->desc >> 32);
    VREG(d, 0x90) = (u32)(u64)d->avail;
    VREG(d, 0x94) = (u32)((u64)d->avail >> 32);
    VREG(d, 0xa0) = (u32)(u64)d->used;
    VREG(d, 0xa4) = (u32)((u64)d->used >> 32);
    VREG(d, 0x44) = 1;
    VREG(d, 0x70) = 1 | 2 | 8 | 4;
    gic_config(VIRTIO_INTID(slot), 1, 0x80, 0);
    return VREG(d, 0x70);
}

/* Copies n bytes (a multiple of 16, 8-byte aligned pointers): the bounce copy of a real driver.
 * It acts for the device, so it runs with tag checks overridden (PSTATE.TCO = 1): a buffer whose
 * granules carry different tags is copied through one pointer. Tags are neither read nor written. */
static void copy_words(void *dst, const void *src, u64 n)
{
    volatile u64 *d = dst;
    const volatile u64 *s = src;
    if (rt_have_mte)
        tco_set();
    for (u64 i = 0; i < n / 8; i += 2) {
        u64 a = s[i], b = s[i + 1];
        d[i] = a;
        d[i + 1] = b;
    }
    if (rt_have_mte)
        tco_clear();
}

/* One block request; buf is the caller's (tagged) pointer, len its length. Returns the status
 * byte, or 0xff when no completion came. */
static u32 blk_rw(struct vdev *d, u32 type, u64 sector, void *buf, u32 len)
{
    u64 data = (u64)buf & ~(0xFFUL << 56);           /* the device takes physical addresses */
    int to_device = type == 1;
    if (d->bounce && len) {
        if (len > BOUNCE_MAX)
            return 0xfe;
        if (to_device)
            copy_words((void *)BOUNCE_DATA, buf, len);
        data = BOUNCE_DATA;
    }
    d->hdr->type = type;
    d->hdr->reserved = 0;
    d->hdr->sector = sector;
    *d->status = 0xaa;
    int n = 0;
    d->desc[n].addr = (u64)d->hdr;
    d->desc[n].len = 16;
    d->desc[n].flags = 1;
    d->desc[n].next = (u16)(n + 1);
    n++;
    if (len) {
        d->desc[n].addr = data;
        d->desc[n].len = len;
        d->desc[n].flags = (u16)(1 | (to_device ? 0 : 2));
        d->desc[n].next = (u16)(n + 1);
        n++;
    }
    d->desc[n].addr = (u64)d->status;
    d->desc[n].len = 1;
    d->desc[n].flags = 2;
    d->desc[n].next = 0;
    d->avail->ring[d->avail->idx % VQ_SIZE] = 0;
    dsb();
    d->avail->idx = (u16)(d->avail->idx + 1);
    dsb();
    VREG(d, 0x50) = 0;
    WAIT_FOR_IRQ(d->used->idx != d->last_used, 1000000);
    dsb();
    if (d->used->idx == d->last_used)
        return 0xff;
    d->last_len = d->used->ring[d->last_used % VQ_SIZE].len;
    d->last_used = (u16)(d->last_used + 1);
    u32 status = *d->status;
    if (d->bounce && len && !to_device && status == 0)
        copy_words(buf, (void *)BOUNCE_DATA, len);
    return status;
}

#endif
