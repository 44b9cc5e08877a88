/*
 * gdb-tags: the guest the debugger tests drive (test/gdb, test/monitor). It tags a buffer in the
 * tagged test block, passes through checkpoint() (where the tests break), then prints the tags it
 * sees, loads through its tagged pointer and exits with the first granule's tag. Run alone it
 * prints "3333aa00" twice, the load succeeds and it exits 3; a debugger that retags the buffer
 * at the checkpoint changes the second line, makes the load fault and changes the status.
 */
#include "rt.h"

#define BUF TEST_BASE

/* Globals the tests name: the tagged pointer, and a variable written after the checkpoint. */
volatile u64 tagged_ptr;
volatile u64 watched;

__attribute__((noinline)) void checkpoint(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    mte_config(TCF_SYNC, TCF_NONE, 1, 1);
    u64 p = WITH_TAG(BUF, 3);
    tag_range(p, 64);
    tag_range(WITH_TAG(BUF + 64, 0xa), 32);
    for (int i = 0; i < 8; i++)
        ((volatile u64 *)p)[i] = 0x1111111111111111UL * (u64)(i + 1);
    tagged_ptr = p;

    puts("tags before: ");
    print_tags(BUF, 8);
    puts("\n");
    checkpoint();
    puts("tags after:  ");
    print_tags(BUF, 8);
    puts("\n");

    watched = 0x5a5a;
    u64 v = 0;
    expect_fault();
    __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(tagged_ptr) : "memory");
    report_fault("load through tagged_ptr");
    printf("value %lx\n", v);

    int status = (int)PTR_TAG(ldg(BUF));
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
    return status;
}
