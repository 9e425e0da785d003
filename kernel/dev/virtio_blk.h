// The virtio block device driver, below the block request layer (blk.h).
#ifndef QUIRE_VIRTIO_BLK_H
#define QUIRE_VIRTIO_BLK_H

#include "types.h"

struct blk_request;
struct blk_stats;

void virtio_blk_init(void);
void virtio_blk_submit(struct blk_request *req);
void virtio_blk_intr(int irq);
uint64 virtio_blk_capacity(void);   // in 512-byte sectors
int virtio_blk_can_flush(void);
void virtio_blk_stats(struct blk_stats *st);

#endif
