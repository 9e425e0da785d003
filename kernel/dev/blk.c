// The block request layer: request allocation, synchronous helpers, and
// the disk counters.  See blk.h.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "proc/proc.h"
#include "dev/blk.h"
#include "dev/virtio_blk.h"

#define NREQ 128   // requests in the pool

static struct {
  struct spinlock lock;
  struct blk_request *free;
  struct blk_request reqs[NREQ];
} pool;

// Protects req->done for blk_submit_wait's sleepers.
static struct spinlock wait_lock;

// Writes to disk 0 that had completed when the last successful FLUSH was
// sent: the FLUSH made all of them durable (blk_flush_needed).
static uint64 flushed_writes;

static blk_hold_t hold;

void
blk_init(void)
{
  initlock(&pool.lock, "blk_pool");
  initlock(&wait_lock, "blk_wait");
  for (int i = 0; i < NREQ; i++) {
    pool.reqs[i].next = pool.free;
    pool.free = &pool.reqs[i];
  }
  virtio_blk_init();
}

struct blk_request *
blk_alloc(void)
{
  acquire(&pool.lock);
  while (pool.free == 0)
    sleep(&pool.free, &pool.lock);
  struct blk_request *req = pool.free;
  pool.free = req->next;
  release(&pool.lock);

  req->dev = 0;
  req->nseg = 0;
  req->error = 0;
  req->done = 0;
  req->end_io = 0;
  req->private = 0;
  return req;
}

// Safe to call from an end_io, in interrupt context.
void
blk_free(struct blk_request *req)
{
  acquire(&pool.lock);
  req->next = pool.free;
  pool.free = req;
  wakeup(&pool.free);
  release(&pool.lock);
}

void
blk_submit(struct blk_request *req)
{
  blk_hold_t h = __atomic_load_n(&hold, __ATOMIC_ACQUIRE);

  if (h && h(req))
    return;
  virtio_blk_submit(req);
}

// Hand a request to the disk now (for a hold that kept it).
void
blk_dispatch(struct blk_request *req)
{
  virtio_blk_submit(req);
}

void
blk_attach_hold(blk_hold_t h)
{
  __atomic_store_n(&hold, h, __ATOMIC_RELEASE);
}

static void
end_wait(struct blk_request *req)
{
  acquire(&wait_lock);
  req->done = 1;
  wakeup(req);
  release(&wait_lock);
}

// Submit and sleep until the disk has finished.  Returns 0 or -EIO.
int
blk_submit_wait(struct blk_request *req)
{
  req->done = 0;
  req->end_io = end_wait;
  blk_submit(req);
  acquire(&wait_lock);
  while (!req->done)
    sleep(req, &wait_lock);
  release(&wait_lock);
  return req->error;
}

// Submit n requests at once and wait for all of them.  Returns 0 or the
// first error.
int
blk_submit_batch(struct blk_request **reqs, int n)
{
  int err = 0;

  for (int i = 0; i < n; i++) {
    reqs[i]->done = 0;
    reqs[i]->end_io = end_wait;
    blk_submit(reqs[i]);
  }
  acquire(&wait_lock);
  for (int i = 0; i < n; i++) {
    while (!reqs[i]->done)
      sleep(reqs[i], &wait_lock);
    if (err == 0)
      err = reqs[i]->error;
  }
  release(&wait_lock);
  return err;
}

// Read or write nblocks consecutive blocks to or from buf, synchronously.
int
blk_rw(enum blk_op op, uint64 blockno, void *buf, int nblocks)
{
  int err = 0;

  while (nblocks > 0 && err == 0) {
    struct blk_request *req = blk_alloc();
    int n = MIN(nblocks, BLK_MAXSEG);
    req->op = op;
    req->blockno = blockno;
    req->nseg = n;
    for (int i = 0; i < n; i++) {
      req->seg[i].addr = (char *)buf + i * BSIZE;
      req->seg[i].len = BSIZE;
    }
    err = blk_submit_wait(req);
    blk_free(req);
    blockno += n;
    buf = (char *)buf + n * BSIZE;
    nblocks -= n;
  }
  return err;
}

// Empty the disk's volatile write cache: when this returns 0, every write
// that completed before the call is on stable storage.
int
blk_flush(void)
{
  return blk_flush_dev(0);
}

int
blk_flush_dev(int dev)
{
  struct blk_stats before;

  if (!virtio_blk_can_flush(dev))
    return 0;   // no volatile cache to empty
  virtio_blk_stats(dev, &before);
  struct blk_request *req = blk_alloc();
  req->dev = dev;
  req->op = BLK_FLUSH;
  req->nseg = 0;
  int err = blk_submit_wait(req);
  blk_free(req);
  // Every write counted before the FLUSH was sent had completed, so the
  // FLUSH covered it.  (A write that completed meanwhile counts after.)
  uint64 old = __atomic_load_n(&flushed_writes, __ATOMIC_RELAXED);
  while (err == 0 && dev == 0 && old < before.writes &&
         !__atomic_compare_exchange_n(&flushed_writes, &old, before.writes, 0,
                                      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
    ;
  return err;
}

/**
 * blk_flush_needed - would a FLUSH of disk 0 now make anything durable?
 *
 * True when a write has completed since the last successful FLUSH was
 * sent, whoever wrote it: such a write may still sit in the disk's
 * volatile cache.  False when every completed write is on stable storage
 * already, or the disk has no cache to empty: then a FLUSH would be I/O
 * for nothing.
 */
int
blk_flush_needed(void)
{
  struct blk_stats now;

  if (!virtio_blk_can_flush(0))
    return 0;
  virtio_blk_stats(0, &now);
  return now.writes > __atomic_load_n(&flushed_writes, __ATOMIC_SEQ_CST);
}

uint64
blk_capacity(void)
{
  return virtio_blk_capacity(0) / (BSIZE / 512);
}

void
blk_get_stats(struct blk_stats *st)
{
  virtio_blk_stats(0, st);
}
