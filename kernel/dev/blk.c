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
  virtio_blk_submit(req);
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
  if (!virtio_blk_can_flush(dev))
    return 0;   // no volatile cache to empty
  struct blk_request *req = blk_alloc();
  req->dev = dev;
  req->op = BLK_FLUSH;
  req->nseg = 0;
  int err = blk_submit_wait(req);
  blk_free(req);
  return err;
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
