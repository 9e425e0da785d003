// blkhold(2): a disk that reorders its queue, for the crash lab's tests.
//
//   blkhold(centisecs)
//
// From now on every write to a data block (at or past the superblock's
// datastart: file data, directories, indirect blocks) waits this long in
// the kernel before the disk is given it; 0 stops holding new writes.
// Returns the previous setting.
//
// A real disk may complete the writes in its queue in any order, but
// QEMU's throttled disk, which the crash tests use to keep writes in
// flight, completes them first in, first out.  On such a disk a commit
// that forgets to wait for the file data it makes reachable (ordered
// data, kernel/fs/log.c) looks correct: its own log writes queue behind
// that data.  Holding the data writes lets the log writes overtake them,
// as they could on real hardware, so the mistake shows after a power cut.
//
// The empty log header that ends a commit lets the held writes go at
// once, right behind it: the disk has the whole transaction, commit
// record and home blocks, before their data, however long the commit took
// to come, so a commit that did not wait shows every time.  A commit that
// waits for its ordered data writes no header while they are held, and
// waits out the hold.
//
// The hold is attached to the block layer (blk_attach_hold) the first
// time it is asked for; before that nothing in dev/ sees it.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "trap/trap.h"
#include "dev/blk.h"
#include "uapi/fs.h"
#include "fs/fs.h"
#include "debug/debug.h"

#define NHOLD 128            // requests held at once; more pass at once

static struct {
  struct spinlock lock;
  uint64 hold_ticks;         // how long each write waits; 0: none held
  int started;               // the releasing thread runs
  uint head, tail;           // ring of held requests, released in order
  struct blk_request *req[NHOLD];
  uint64 until[NHOLD];
} h;

// Put the empty log header's write in front of the held writes, and let
// them all go now (h.lock held; there is room).
static void
overtake(struct blk_request *header)
{
  h.head--;
  h.req[h.head % NHOLD] = header;
  for (uint i = h.head; i != h.tail; i++)
    h.until[i % NHOLD] = 0;
}

// Is req the write of an empty log header, the end of a commit?
static int
ends_commit(struct blk_request *req)
{
  return req->blockno == sb.logstart && req->nseg > 0 &&
         ((struct logheader *)req->seg[0].addr)->n == 0;
}

// blk_submit's hold: keep a write (a data write, or the empty log
// header's while data writes are held), or let the request pass (0).
// May be called in interrupt context: it only queues.
static int
hold(struct blk_request *req)
{
  int kept = 0;

  acquire(&h.lock);
  if (h.hold_ticks > 0 && req->dev == 0 && req->op == BLK_WRITE &&
      h.tail - h.head < NHOLD) {
    if (req->blockno >= sb.datastart) {
      h.req[h.tail % NHOLD] = req;
      h.until[h.tail % NHOLD] = ticks + h.hold_ticks;
      h.tail++;
      kept = 1;
    } else if (h.head != h.tail && ends_commit(req)) {
      overtake(req);
      kept = 1;
    }
  }
  release(&h.lock);
  return kept;
}

// The releasing thread: give each held write to the disk when its time
// has come, oldest first.  The clock wakes it every tick.
static void
releaser(void *arg)
{
  acquire(&h.lock);
  for (;;) {
    if (h.head != h.tail && ticks >= h.until[h.head % NHOLD]) {
      struct blk_request *req = h.req[h.head % NHOLD];
      h.head++;
      release(&h.lock);
      blk_dispatch(req);
      acquire(&h.lock);
    } else {
      sleep(&ticks, &h.lock);
    }
  }
}

void
blkhold_init(void)
{
  initlock(&h.lock, "blkhold");
}

int64
sys_blkhold(void)
{
  int cs = argint(0);

  if (cs < 0 || cs > 1000)
    return -EINVAL;
  acquire(&h.lock);
  int start = !h.started;
  h.started = 1;
  release(&h.lock);
  if (start) {
    if (kthread_create("blkhold", releaser, 0) == 0)
      panic("blkhold: no process slot for the releasing thread");
    blk_attach_hold(hold);
  }
  acquire(&h.lock);
  int64 old = h.hold_ticks * 100 / TICK_HZ;
  h.hold_ticks = (uint64)cs * TICK_HZ / 100;
  release(&h.lock);
  return old;
}
