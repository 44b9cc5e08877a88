/*
 * A tiny MTE-tagged heap for the heap and demo guests (header-only, single-threaded).
 *
 * Layout at HEAP_BASE: blocks of [16-byte header granule, tag 0][payload, n granules].
 * malloc picks a payload tag with IRG, excluding tag 0 (headers) and the tags of the
 * neighbouring granules, so a linear overflow or underflow always lands on a different tag.
 * free checks the pointer's tag against memory (catches double and invalid frees), then retags
 * the payload with a fresh tag, so stale pointers fault (use-after-free).
 */
#ifndef TAGHEAP_H
#define TAGHEAP_H
#include "rt.h"

struct hdr {
    u64 size;      /* payload bytes, multiple of 16 */
    u64 free;      /* 1 when on the free list */
};

static u64 heap_top;          /* first unused byte (untagged address) */

static void heap_init(u64 seed)
{
    heap_top = HEAP_BASE;
    write_sysreg(gcr_el1, 0x0001);           /* RRND = 0, exclude tag 0 */
    write_sysreg(rgsr_el1, seed << 8);
    isb();
    for (u64 off = 0; off < 0x4000; off += 256)
        stgm(HEAP_BASE + off, 0);            /* heap starts with tag 0 everywhere */
}

static u64 tag_at(u64 a)
{
    return PTR_TAG(ldg(a));
}

/* choose a tag different from 0 (GCR), the granule before, the granule after and avoid */
static u64 pick_tag(u64 payload, u64 size, u64 avoid)
{
    u64 excl = (1UL << tag_at(payload - 16)) | (1UL << tag_at(payload + size)) | (1UL << avoid);
    return irg(payload, excl);
}

static void *tmalloc(u64 n)
{
    u64 size = (n + 15) & ~15UL;
    if (size == 0)
        size = 16;
    /* first fit over the blocks already carved */
    for (u64 b = HEAP_BASE; b < heap_top;) {
        struct hdr *h = (struct hdr *)b;
        if (h->free && h->size >= size) {
            u64 p = pick_tag(b + 16, h->size, tag_at(b + 16));
            tag_range(p, h->size);
            h->free = 0;
            return (void *)p;
        }
        b += 16 + h->size;
    }
    if (heap_top + 16 + size > HEAP_BASE + 0x4000)
        return NULL;
    struct hdr *h = (struct hdr *)heap_top;
    h->size = size;
    h->free = 0;
    u64 p = pick_tag(heap_top + 16, size, 0);
    tag_range(p, size);
    heap_top += 16 + size;
    return (void *)p;
}

/* returns 0 on success, -1 if the pointer's tag does not match (double/invalid free) */
static int tfree(void *ptr)
{
    u64 p = (u64)ptr;
    if (tag_at(p) != PTR_TAG(p))
        return -1;
    struct hdr *h = (struct hdr *)(WITH_TAG(p, 0) - 16);
    if (h->free)
        return -1;
    u64 np = pick_tag(WITH_TAG(p, 0), h->size, PTR_TAG(p));
    tag_range(np, h->size);
    h->free = 1;
    return 0;
}

#endif
