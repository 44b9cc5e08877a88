/* virtio-blk with direct DMA into MTE-tagged buffers (see virtio-blk-common.h). */
#include "virtio-blk-common.h"

int main(void)
{
    return run_blk_test(0);
}
