/*
 * unexpected-fault: a synchronous tag-check fault nobody expects. The runtime prints the
 * syndrome and exits with EXIT_UNEXPECTED_EL1 (101): this pins down that path.
 */
#include "rt.h"

int main(void)
{
    puts("unexpected-fault: tagging a granule 7, then loading it through tag 3\n");
    u64 p = TEST_BASE + 0x100;
    stg(WITH_TAG(p, 7));
    mte_config(TCF_SYNC, TCF_NONE, 1, 1);
    volatile u64 *q = (u64 *)WITH_TAG(p, 3);
    u64 v = *q;
    printf("unexpected-fault: not reached (%lx)\n", v);
    return 0;
}
