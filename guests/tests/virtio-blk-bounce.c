/* virtio-blk through a shared bounce pool, swiotlb-style (see virtio-blk-common.h). On Tagvisor
 * it runs with --dma bounce, where the device may touch nothing outside the pool. */
#include "virtio-blk-common.h"

int main(void)
{
    return run_blk_test(1);
}
