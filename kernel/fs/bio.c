// The buffer cache.  See buf.h.
//
// A fixed set of NBUF buffers on a list in order of last use.  bread()
// finds the block's buffer or recycles the least recently used idle one;
// brelse() moves a buffer to the front.  A disk error on a read is the
// caller's to report: bread() returns 0, and the call that needed the
// block fails with EIO (docs/errors.md).
#include "types.h"
#include "param.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "lib/sleeplock.h"
#include "mm/mm.h"
#include "dev/blk.h"
#include "fs/buf.h"
#include "fs/log.h"

static struct {
  struct spinlock lock;     // the list, and every refcnt, dev and blockno
  struct buf buf[NBUF];
  struct buf head;          // sentinel of the LRU list
} bcache;

void
binit(void)
{
  initlock(&bcache.lock, "bcache");
  bcache.head.prev = bcache.head.next = &bcache.head;
  for (struct buf *b = bcache.buf; b < bcache.buf + NBUF; b++) {
    if ((b->data = kalloc()) == 0)
      panic("binit: out of memory");
    initsleeplock(&b->lock, "buffer");
    b->next = bcache.head.next;
    b->prev = &bcache.head;
    bcache.head.next->prev = b;
    bcache.head.next = b;
  }
}

// The buffer for (dev, blockno), locked, with its refcnt raised.  Its data
// is valid only if b->valid.
static struct buf *
bget(uint dev, uint blockno)
{
  struct buf *b;

  acquire(&bcache.lock);
  for (b = bcache.head.next; b != &bcache.head; b = b->next) {
    if (b->dev == dev && b->blockno == blockno) {
      b->refcnt++;
      release(&bcache.lock);
      acquiresleep(&b->lock);
      return b;
    }
  }
  // Not cached: recycle the least recently used idle buffer.
  for (b = bcache.head.prev; b != &bcache.head; b = b->prev) {
    if (b->refcnt == 0) {
      b->dev = dev;
      b->blockno = blockno;
      b->valid = 0;
      b->refcnt = 1;
      release(&bcache.lock);
      acquiresleep(&b->lock);
      return b;
    }
  }
  panic("bget: every buffer is in use");
}

// The buffer of block blockno, locked and holding the block's data; or 0
// if the disk failed to read it (nothing is kept: a later bread tries
// again).
struct buf *
bread(uint dev, uint blockno)
{
  struct buf *b = bget(dev, blockno);

  if (!b->valid) {
    if (blk_rw(BLK_READ, blockno, b->data, 1) != 0) {
      brelse(b);
      log_read_failed(blockno);
      return 0;
    }
    b->valid = 1;
  }
  return b;
}

// A buffer for a block that the caller will overwrite entirely: no read,
// the data is zeroed.
struct buf *
bgetzero(uint dev, uint blockno)
{
  struct buf *b = bget(dev, blockno);

  memset(b->data, 0, BSIZE);
  b->valid = 1;
  return b;
}

// Write a locked buffer to its home block now.  0 or -EIO.
int
bwrite(struct buf *b)
{
  if (!holdingsleep(&b->lock))
    panic("bwrite: buffer not locked");
  return blk_rw(BLK_WRITE, b->blockno, b->data, 1);
}

// Unlock a buffer and drop a reference; it becomes the most recently used.
void
brelse(struct buf *b)
{
  if (!holdingsleep(&b->lock))
    panic("brelse: buffer not locked");
  releasesleep(&b->lock);

  acquire(&bcache.lock);
  b->refcnt--;
  if (b->refcnt == 0) {
    b->next->prev = b->prev;
    b->prev->next = b->next;
    b->next = bcache.head.next;
    b->prev = &bcache.head;
    bcache.head.next->prev = b;
    bcache.head.next = b;
  }
  release(&bcache.lock);
}

// The log keeps a buffer it must still write in the cache with an extra
// reference.
void
bpin(struct buf *b)
{
  acquire(&bcache.lock);
  b->refcnt++;
  release(&bcache.lock);
}

void
bunpin(struct buf *b)
{
  acquire(&bcache.lock);
  b->refcnt--;
  release(&bcache.lock);
}

// Forget any cached copy of a block that is about to be written by
// another path (file data written through the page cache).
void
binvalidate(uint dev, uint blockno)
{
  acquire(&bcache.lock);
  for (struct buf *b = bcache.head.next; b != &bcache.head; b = b->next)
    if (b->dev == dev && b->blockno == blockno && b->refcnt == 0)
      b->valid = 0;
  release(&bcache.lock);
}
