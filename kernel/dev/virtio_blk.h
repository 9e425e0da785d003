// The virtio block device driver, below the block request layer (blk.h).
#ifndef QUIRE_VIRTIO_BLK_H
#define QUIRE_VIRTIO_BLK_H

#include "types.h"

struct blk_request;
struct blk_stats;

#define NDISK 2   // disk 0: the file system; disk 1: a scratch disk

void virtio_blk_init(void);
int virtio_blk_ndisks(void);
void virtio_blk_submit(struct blk_request *req);
void virtio_blk_intr(int irq);
uint64 virtio_blk_capacity(int dev);   // in 512-byte sectors
int virtio_blk_can_flush(int dev);
void virtio_blk_stats(int dev, struct blk_stats *st);

#endif
