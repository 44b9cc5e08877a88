/*
 * virtio-console (virtio 1.2 §5.3), single port: the guest sends a line on transmitq0 (QEMU
 * writes it to a file, Tagvisor to its console output; the differential test compares them) and
 * echoes on the UART what the host sent on receiveq0 (devices.sh: console.in). The console is
 * the only virtio device, so it sits in slot 31.
 */
#include "virtio.h"

#define RXBUF 0x40900000UL
#define TXBUF 0x40901000UL

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

struct q {
    volatile struct vdesc *desc;
    volatile struct vavail *avail;
    volatile struct vused *used;
    u16 last_used;
};

static void setup_queue(u64 base, int index, struct q *q, u64 area)
{
    q->desc = (volatile struct vdesc *)area;
    q->avail = (volatile struct vavail *)(area + 0x400);
    q->used = (volatile struct vused *)(area + 0x600);
    q->last_used = 0;
    memset((void *)area, 0, 0x1000);
    *(volatile u32 *)(base + 0x30) = (u32)index;
    *(volatile u32 *)(base + 0x38) = VQ_SIZE;
    *(volatile u32 *)(base + 0x80) = (u32)(u64)q->desc;
    *(volatile u32 *)(base + 0x84) = 0;
    *(volatile u32 *)(base + 0x90) = (u32)(u64)q->avail;
    *(volatile u32 *)(base + 0x94) = 0;
    *(volatile u32 *)(base + 0xa0) = (u32)(u64)q->used;
    *(volatile u32 *)(base + 0xa4) = 0;
    *(volatile u32 *)(base + 0x44) = 1;
}

static void post(struct q *q, u16 i, u64 addr, u32 len, int writable)
{
    q->desc[i].addr = addr;
    q->desc[i].len = len;
    q->desc[i].flags = writable ? 2 : 0;
    q->desc[i].next = 0;
    q->avail->ring[q->avail->idx % VQ_SIZE] = i;
    dsb();
    q->avail->idx = (u16)(q->avail->idx + 1);
    dsb();
}

int main(void)
{
    gic_init();
    irq_enable();
    u64 base = VIRTIO_BASE(31);
    printf("slot 31: device %u\n", *(volatile u32 *)(base + 8));
    *(volatile u32 *)(base + 0x70) = 0;
    *(volatile u32 *)(base + 0x70) = 3;
    *(volatile u32 *)(base + 0x24) = 0;
    *(volatile u32 *)(base + 0x20) = 0;         /* no MULTIPORT, no SIZE: a single port */
    *(volatile u32 *)(base + 0x24) = 1;
    *(volatile u32 *)(base + 0x20) = 1;         /* VIRTIO_F_VERSION_1 */
    *(volatile u32 *)(base + 0x70) = 3 | 8;
    printf("features ok: %u\n", (*(volatile u32 *)(base + 0x70) >> 3) & 1);
    struct q rx, tx;
    setup_queue(base, 0, &rx, DEV_AREA);
    setup_queue(base, 1, &tx, DEV_AREA + 0x1000);
    gic_config(VIRTIO_INTID(31), 1, 0x80, 0);
    *(volatile u32 *)(base + 0x70) = 3 | 8 | 4;
    printf("status %x\n", *(volatile u32 *)(base + 0x70));

    /* Receive: four 16-byte buffers; gather until a newline arrives. */
    memset((void *)RXBUF, 0, 0x100);
    for (u16 i = 0; i < 4; i++)
        post(&rx, i, RXBUF + 16 * i, 16, 1);
    *(volatile u32 *)(base + 0x50) = 0;
    char line[80];
    u32 n = 0;
    int newline = 0;
    for (int spins = 0; spins < 100000 && !newline; spins++) {
        while (rx.last_used != rx.used->idx && n < sizeof line - 1) {
            volatile struct vused_elem *e = &rx.used->ring[rx.last_used % VQ_SIZE];
            const u8 *p = (const u8 *)(RXBUF + 16 * e->id);
            for (u32 k = 0; k < e->len && n < sizeof line - 1; k++) {
                line[n++] = (char)p[k];
                if (p[k] == '\n')
                    newline = 1;
            }
            rx.last_used++;
        }
        if (!newline)
            WAIT_FOR_IRQ(rx.last_used != rx.used->idx, 1);
    }
    line[n] = 0;
    printf("received %u bytes: %s", n, line);
    if (!newline)
        puts("(no newline)\n");

    /* Transmit one line, in two descriptors' worth of requests. */
    const char *msg = "hello from the guest over virtio-console\n";
    u32 len = 0;
    while (msg[len])
        len++;
    memcpy((void *)TXBUF, msg, len);
    post(&tx, 0, TXBUF, 20, 0);
    post(&tx, 1, TXBUF + 20, len - 20, 0);
    *(volatile u32 *)(base + 0x50) = 1;
    WAIT_FOR_IRQ(tx.used->idx == 2, 100000);
    printf("transmitted: used idx %u\n", tx.used->idx);
    return 0;
}
