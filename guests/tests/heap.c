/*
 * heap: a tagged allocator (tagheap.h) catching heap bugs with synchronous tag-check faults:
 * linear overflow into the next block, underflow into the header, use-after-free, double
 * free, reuse of a freed block with a fresh tag; then the same overflow in async mode.
 */
#include "rt.h"
#include "tagheap.h"

static int caught;

static void show_ptr(const char *name, void *p)
{
    u64 a = (u64)p;
    printf("%-4s = %016lx  pointer tag %lx, memory tag %lx\n", name, a, PTR_TAG(a), tag_at(a));
}

static void expect(const char *what)
{
    if (fault.taken) {
        caught++;
        printf("  caught %s: ESR=%08lx FAR=%016lx (memory tag there %lx)\n", what, fault.esr,
               fault.far, tag_at(fault.far));
    } else {
        printf("  NOT caught: %s\n", what);
    }
}

int main(void)
{
    puts("heap: tagged allocator\n");
    heap_init(0x1234);
    mte_config(TCF_SYNC, TCF_NONE, 1, 1);

    char *a = tmalloc(24), *b = tmalloc(40), *c = tmalloc(16);
    show_ptr("a", a);
    show_ptr("b", b);
    show_ptr("c", c);
    printf("tags from heap start: ");
    print_tags(HEAP_BASE, 12);
    putc('\n');

    for (int i = 0; i < 24; i++)
        a[i] = (char)('A' + i);
    for (int i = 0; i < 40; i++)
        b[i] = (char)i;
    u64 sum = 0;
    for (int i = 0; i < 40; i++)
        sum += (u64)(u8)b[i] * (u64)(u8)a[i % 24];
    printf("in-bounds use ok, checksum %lu\n", sum);

    puts("overflow: a[32] (a has 24 bytes, rounded to 32)\n");
    a[31] = '!';   /* inside the last granule of a: not detectable at granule size */
    expect_fault();
    __asm__ volatile("strb %w0, [%1, #32]" :: "r"('X'), "r"(a) : "memory");
    expect("heap overflow");

    puts("underflow: c[-1]\n");
    u64 v = 0;
    expect_fault();
    __asm__ volatile("ldurb %w0, [%1, #-1]" : "+r"(v) : "r"(c) : "memory");
    expect("heap underflow");

    puts("use-after-free: free(b), then read b[0]\n");
    printf("  free(b) = %d\n", tfree(b));
    show_ptr("b", b);
    expect_fault();
    __asm__ volatile("ldrb %w0, [%1]" : "+r"(v) : "r"(b) : "memory");
    expect("use after free");

    puts("double free: free(b) again\n");
    int r = tfree(b);
    printf("  free(b) = %d (%s)\n", r, r ? "rejected: tag mismatch" : "accepted");
    if (r)
        caught++;

    puts("reuse: d = malloc(32) takes b's block with a new tag\n");
    char *d = tmalloc(32);
    show_ptr("d", d);
    printf("  same block as b: %s\n", WITH_TAG(d, 0) == WITH_TAG(b, 0) ? "yes" : "no");
    d[0] = 'd';
    expect_fault();
    __asm__ volatile("strb %w0, [%1]" :: "r"('Z'), "r"(b) : "memory");
    expect("write through stale pointer b");
    printf("  d[0] still '%c'\n", d[0]);

    puts("async mode: the same overflow is recorded in TFSR_EL1, not trapped\n");
    mte_config(TCF_ASYNC, TCF_NONE, 1, 1);
    write_sysreg(tfsr_el1, 0);
    isb();
    expect_fault();
    __asm__ volatile("strb %w0, [%1, #32]" :: "r"('Y'), "r"(a) : "memory");
    report_fault("  async overflow");
    __asm__ volatile("dsb nsh\n\tisb" ::: "memory");
    printf("  TFSR_EL1=%lx\n", read_sysreg(tfsr_el1));
    write_sysreg(tfsr_el1, 0);
    mte_config(TCF_NONE, TCF_NONE, 1, 1);

    printf("heap: %d bugs caught\n", caught);
    return caught == 5 ? 0 : 1;
}
