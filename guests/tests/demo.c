/*
 * demo: the README demo. A tagged heap allocates, frees, and then a deliberate use-after-free
 * is caught by MTE. Short, friendly, deterministic output; exits 0.
 */
#include "rt.h"
#include "tagheap.h"

int main(void)
{
    heap_init(0xace1);
    mte_config(TCF_SYNC, TCF_NONE, 1, 1);

    puts("Tagvisor MTE demo: a tagged heap catches a use-after-free\n\n");

    char *msg = tmalloc(32);
    printf("  p = malloc(32)       -> %p  (pointer tag %lx, memory tag %lx)\n", (u64)msg,
           PTR_TAG(msg), tag_at((u64)msg));
    const char *text = "hello, MTE";
    int n = 0;
    for (; text[n]; n++)
        msg[n] = text[n];
    msg[n] = 0;
    printf("  write and read p     -> \"%s\"\n", msg);

    tfree(msg);
    printf("  free(p)              -> memory retagged %lx; p still carries tag %lx\n",
           tag_at((u64)msg), PTR_TAG(msg));

    printf("  read p[0] after free -> ");
    u64 c = 0;
    expect_fault();
    __asm__ volatile("ldrb %w0, [%1]" : "+r"(c) : "r"(msg) : "memory");
    if (fault.taken) {
        printf("blocked by a tag check fault\n");
        printf("      ESR_EL1 %08lx (data abort, DFSC 0x11 = tag check fault)\n", fault.esr);
        printf("      FAR_EL1 %016lx (pointer tag %lx != memory tag %lx)\n", fault.far,
               PTR_TAG(fault.far), tag_at(fault.far));
        puts("\nThe stale pointer's tag no longer matches the memory's tag, so the bug is\n"
             "caught at the faulting instruction instead of silently reading freed memory.\n");
    } else {
        printf("NOT caught (MTE is off?)\n");
    }
    mte_config(TCF_NONE, TCF_NONE, 1, 1);
    return 0;
}
