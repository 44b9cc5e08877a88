/*
 * bench-mte: an MTE-heavy workload for `npm run bench`: a tagged slab allocator (IRG + ST2G on
 * every allocation, a retag on every free) with checked loads and stores through the tagged
 * pointers, and a planned use-after-free caught at the end. On a VM without MTE the same work
 * runs with plain pointers, so MTE-on/MTE-off time is the cost of tagging. ~60 M instructions.
 */
#include "rt.h"

#define SLAB     0x41000000UL   /* 4096 objects of 64 bytes, Normal Tagged */
#define OBJECTS  4096
#define OBJ_SIZE 64

static u32 lcg_state = 777;
static u32 lcg(void) { lcg_state = lcg_state * 1103515245u + 12345u; return lcg_state >> 1; }

static u64 tag_alloc(u64 addr)
{
    if (!rt_have_mte) return addr;
    u64 p = irg(addr, 1);               /* never tag 0 */
    st2g(p);
    st2g(p + 32);
    return p;
}

static void tag_free(u64 p)
{
    if (!rt_have_mte) return;
    u64 q = WITH_TAG(p, PTR_TAG(p) ^ 0x8);   /* a different tag: stale pointers now fault */
    st2g(q);
    st2g(q + 32);
}

/* Repetitions of the 1,000,000 rounds: 1 here, patched by bench/cpu.ts for long runs (see bench-int.c). */
volatile u32 bench_repeat[2] = { 0x54504552 /* "REPT" */, 1 };

int main(void)
{
    static u64 live[OBJECTS];
    printf("bench-mte (MTE %s)\n", rt_have_mte ? "on" : "off");
    if (rt_have_mte) {
        write_sysreg(rgsr_el1, 0x5a5a00);
        mte_config(TCF_SYNC, TCF_SYNC, 1, 1);
    }
    for (u32 i = 0; i < OBJECTS; i++) live[i] = 0;
    u64 checksum = 0;
    const u32 rounds = 1000000 * bench_repeat[1];
    for (u32 round = 0; round < rounds; round++) {
        u32 i = lcg() % OBJECTS;
        if (live[i]) {
            volatile u64 *o = (volatile u64 *)live[i];
            for (int k = 0; k < 8; k++) checksum += o[k] ^ (u64)k;
            tag_free(live[i]);
            live[i] = 0;
        } else {
            u64 p = tag_alloc(SLAB + (u64)i * OBJ_SIZE);
            volatile u64 *o = (volatile u64 *)p;
            for (int k = 0; k < 8; k++) o[k] = (u64)round * 8 + k;
            live[i] = p;
        }
    }
    printf("checksum %016lx\n", checksum);
    if (rt_have_mte) {
        u64 p = tag_alloc(SLAB);
        tag_free(p);
        expect_fault();
        (void)*(volatile u64 *)p;
        report_fault("use after free");
    }
    return 0;
}
