// Dirty inodes and the flusher thread.
//
// An inode with dirty folios is on one of three lists, all in the order
// the inodes became dirty (dirtied_when), oldest first:
//
//   b_dirty    dirty, waiting for their turn
//   b_io       picked for the current writeback pass
//   b_more_io  written a slice of in this pass, with more left to write
//
// The flusher is a kernel thread.  It wakes every dirty_writeback_interval
// and writes the inodes dirty for longer than dirty_expire_interval
// (kupdate), and it writes in the background whenever the dirty pages pass
// the background threshold.  (The metadata that writeback produces is
// committed by the log's own thread, every commit interval: fs/log.c.)  Each inode gets at most MAX_WRITEBACK_PAGES
// per turn, cyclically from its writeback_index, so that one huge file
// cannot starve the others: an inode with more to write goes to b_more_io
// and waits until the others have had a turn.
//
// sync(2) uses the same lists: it writes every inode that is dirty when
// it starts, first without waiting (WB_SYNC_NONE), then for integrity
// (WB_SYNC_ALL).
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "lib/sleeplock.h"
#include "lib/list.h"
#include "mm/mm.h"
#include "mm/pagemap.h"
#include "mm/vmstat.h"
#include "mm/writeback.h"
#include "mm/sysctl.h"
#include "lib/trace.h"
#include "proc/proc.h"
#include "trap/trap.h"
#include "fs/fs.h"
#include "fs/log.h"

#define MAX_WRITEBACK_PAGES 256   // one inode's slice per turn

static struct {
  struct spinlock list_lock;  // the lists, and i_state/dirtied_when
  struct list_head b_dirty;
  struct list_head b_io;
  struct list_head b_more_io;
  int work;                   // WB_REASON_* bits: wake up and do this
  int running;                // WB_REASON_BACKGROUND while that pass runs
  uint64 dirty_seq;           // inodes that became dirty, ever
  uint64 last_old_flush;      // ticks of the last kupdate pass
} wb;

static struct sleeplock sync_lock;   // one sync_inodes() at a time

static void flusher(void *arg);
static int periodic_due(uint64 now);

void
fs_writeback_init(void)
{
  initsleeplock(&sync_lock, "sync_inodes");
  initlock(&wb.list_lock, "wb_list");
  INIT_LIST_HEAD(&wb.b_dirty);
  INIT_LIST_HEAD(&wb.b_io);
  INIT_LIST_HEAD(&wb.b_more_io);
}

// Start the flusher thread (once the file system is mounted).
void
flusher_start(void)
{
  wb.last_old_flush = ticks;
  if (kthread_create("flush-virtio0", flusher, 0) == 0)
    panic("no process slot for the flusher");
}

// Wake the flusher for a reason (WB_REASON_*).
void
wakeup_flusher(int reason)
{
  // Asked already, or at it right now: nothing to add.  A writer past the
  // background threshold calls this for every page it dirties, and
  // waking the clock's sleepers costs a look at every process.
  int busy = __atomic_load_n(&wb.work, __ATOMIC_RELAXED) |
             __atomic_load_n(&wb.running, __ATOMIC_RELAXED);
  if (busy & reason)
    return;
  acquire(&wb.list_lock);
  if ((wb.work & reason) == 0) {
    wb.work |= reason;
    trace_event(TR_FLUSHER_WAKE, 0, 0, reason, 0);
  }
  release(&wb.list_lock);
  // The flusher sleeps on the clock; waking the clock's sleepers is how
  // to get its attention at once.
  acquire(&tickslock);
  wakeup(&ticks);
  release(&tickslock);
}

/**
 * mark_inode_dirty_pages - note that an inode has a dirty folio
 * @ip: the inode
 *
 * The first dirty folio of a clean inode stamps it with the time and puts
 * it at the tail of b_dirty.  If the flusher is writing the inode right
 * now (I_SYNC), it leaves the inode where it is: the flusher sees the
 * flag when it finishes and requeues the inode itself.
 */
void
mark_inode_dirty_pages(struct inode *ip)
{
  // Already marked: nothing to do, and no lock to take, for every page of
  // a write after the first.  The caller set the folio's DIRTY mark
  // first; the fence orders that before this look, so if the flusher
  // clears the flag now, its look at the marks after writing (see
  // writeback_single_inode) finds the folio and sets the flag again.
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (__atomic_load_n(&ip->i_state, __ATOMIC_RELAXED) & I_DIRTY_PAGES)
    return;
  acquire(&wb.list_lock);
  if (!(ip->i_state & I_DIRTY_PAGES)) {
    ip->i_state |= I_DIRTY_PAGES;
    ip->dirtied_when = ticks;
    ip->dirtied_seq = ++wb.dirty_seq;
    if (!(ip->i_state & I_SYNC))
      list_move_tail(&ip->i_io_list, &wb.b_dirty);
  }
  release(&wb.list_lock);
}

// Take ip off the lists (it is being freed).
void
inode_wb_list_del(struct inode *ip)
{
  acquire(&wb.list_lock);
  ip->i_state &= ~I_DIRTY_PAGES;
  list_del_init(&ip->i_io_list);
  release(&wb.list_lock);
}

// Put ip back at the tail of b_dirty.  The list must stay in dirtied_when
// order, so if ip looks older than the current tail, it is made as young
// as now.  (Linux's redirty_tail.)  list_lock is held.
static void
redirty_tail(struct inode *ip)
{
  if (!list_empty(&wb.b_dirty)) {
    struct inode *tail = list_last_entry(&wb.b_dirty, struct inode, i_io_list);
    if (tail != ip && ip->dirtied_when < tail->dirtied_when)
      ip->dirtied_when = ticks;
  }
  list_move_tail(&ip->i_io_list, &wb.b_dirty);
  trace_event(TR_INODE_REQUEUE, ip->inum, 0, 0, 0);
}

// ip has more to write but used up its slice: it waits for the next pass.
// list_lock is held.
static void
requeue_io(struct inode *ip)
{
  list_move_tail(&ip->i_io_list, &wb.b_more_io);
  trace_event(TR_INODE_REQUEUE, ip->inum, 1, 0, 0);
}

// Fill b_io for a pass: what waited in b_more_io, then the inodes of
// b_dirty dirtied at or before older_than.  list_lock is held.
static void
queue_io(uint64 older_than)
{
  list_splice_tail_init(&wb.b_more_io, &wb.b_io);
  while (!list_empty(&wb.b_dirty)) {
    struct inode *ip = list_first_entry(&wb.b_dirty, struct inode, i_io_list);
    if (ip->dirtied_when > older_than)
      break;
    list_move_tail(&ip->i_io_list, &wb.b_io);
    trace_event(TR_INODE_QUEUE, ip->inum, 0, 0, 0);
  }
}

/**
 * writeback_single_inode - write an inode's dirty folios as wbc asks
 * @ip: the inode, referenced
 * @wbc: what to write
 *
 * Only one writer per inode at a time (I_SYNC).  WB_SYNC_NONE gives up if
 * another is busy with it; WB_SYNC_ALL waits its turn and then waits for
 * its own writes too.  I_DIRTY_PAGES is cleared before writing, so a
 * folio dirtied meanwhile sets it again and is not forgotten.
 * Return: 0 or the first error.
 */
int
writeback_single_inode(struct inode *ip, struct writeback_control *wbc)
{
  struct address_space *mapping = &ip->i_data;

  acquire(&wb.list_lock);
  while (ip->i_state & I_SYNC) {
    if (wbc->sync_mode == WB_SYNC_NONE) {
      release(&wb.list_lock);
      return 0;
    }
    sleep(&ip->i_state, &wb.list_lock);
  }
  ip->i_state |= I_SYNC;
  ip->i_state &= ~I_DIRTY_PAGES;
  release(&wb.list_lock);

  int err = do_writepages(mapping, wbc);
  if (wbc->sync_mode == WB_SYNC_ALL)
    filemap_fdatawait_range(mapping, 0, LLONG_MAX);

  acquire(&wb.list_lock);
  ip->i_state &= ~I_SYNC;
  // Pairs with the fence in mark_inode_dirty_pages(): a writer that saw
  // I_DIRTY_PAGES still set, and so left it alone, has its mark seen here.
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (xa_marked(&mapping->i_pages, PAGECACHE_TAG_DIRTY))
    ip->i_state |= I_DIRTY_PAGES;
  if (!(ip->i_state & I_DIRTY_PAGES))
    list_del_init(&ip->i_io_list);
  else if (list_empty(&ip->i_io_list))
    redirty_tail(ip);
  wakeup(&ip->i_state);
  release(&wb.list_lock);
  return err;
}

// Drop a reference the writeback code took.
static void
wb_iput(struct inode *ip)
{
  begin_op();
  iput(ip);
  end_op();
}

// Write every inode that is dirty when the call begins: WB_SYNC_NONE
// (wait == 0) starts writes; WB_SYNC_ALL (wait) writes and waits, for
// data integrity, and then also waits for writes the flusher had in
// flight.  Each inode is taken once per call (sync_gen tells which are
// done), and inodes that became dirty after the call began are left
// alone, so a busy writer cannot keep sync going.  Returns 0 or the first
// error.
int
sync_inodes(int wait)
{
  static uint64 sync_gen;   // under sync_lock
  int err = 0;

  acquiresleep(&sync_lock);
  acquire(&wb.list_lock);
  uint64 start = wb.dirty_seq;
  release(&wb.list_lock);
  sync_gen++;
  for (;;) {
    struct inode *ip = 0, *it;
    acquire(&wb.list_lock);
    struct list_head *lists[] = { &wb.b_io, &wb.b_more_io, &wb.b_dirty };
    for (int l = 0; l < 3 && ip == 0; l++) {
      list_for_each_entry(it, lists[l], i_io_list) {
        if (it->i_sync_gen != sync_gen && it->dirtied_seq <= start) {
          it->i_sync_gen = sync_gen;
          ip = igrab(it);
          break;
        }
      }
    }
    release(&wb.list_lock);
    if (ip == 0)
      break;
    // The first, non-waiting pass tags too: it must not chase a writer
    // that keeps dirtying the file either.
    struct writeback_control wbc = {
      .sync_mode = wait ? WB_SYNC_ALL : WB_SYNC_NONE,
      .tagged_writepages = !wait,
      .nr_to_write = LLONG_MAX,
      .range_start = 0,
      .range_end = LLONG_MAX,
      .for_sync = 1,
    };
    int r = writeback_single_inode(ip, &wbc);
    if (r && !err)
      err = r;
    wb_iput(ip);
  }
  if (wait)
    inode_wait_all_writeback(sync_gen);
  releasesleep(&sync_lock);
  return err;
}

static int
over_bground_thresh(void)
{
  return (uint64)global_node_page_state(NR_FILE_DIRTY) > dirty_background_thresh();
}

// What one pass of the flusher should do.
struct wb_work {
  long nr_pages;          // pages still to write
  int for_kupdate;
  int for_background;
  int for_reclaim;
  uint64 older_than;      // only inodes dirtied at or before this tick
};

// Write one slice of each inode on b_io.  Returns the pages written.
static long
writeback_inodes(struct wb_work *work)
{
  long written = 0;

  acquire(&wb.list_lock);
  while (!list_empty(&wb.b_io) && work->nr_pages > 0) {
    struct inode *ip = list_first_entry(&wb.b_io, struct inode, i_io_list);
    if (ip->i_state & I_SYNC) {
      // Someone else (sync) is writing it: it waits its next turn.
      requeue_io(ip);
      continue;
    }
    igrab(ip);
    release(&wb.list_lock);

    struct writeback_control wbc = {
      .sync_mode = WB_SYNC_NONE,
      .nr_to_write = MIN(MAX_WRITEBACK_PAGES, work->nr_pages),
      .range_cyclic = 1,
      .for_kupdate = work->for_kupdate,
      .for_background = work->for_background,
      .for_reclaim = work->for_reclaim,
    };
    long before = wbc.nr_to_write;
    writeback_single_inode(ip, &wbc);
    long done = before - wbc.nr_to_write;
    written += done;
    work->nr_pages -= done;

    acquire(&wb.list_lock);
    // Still dirty and still on b_io: its slice ran out (more to write
    // now) or it was redirtied.
    if ((ip->i_state & I_DIRTY_PAGES) && !(ip->i_state & I_SYNC)) {
      if (wbc.nr_to_write <= 0)
        requeue_io(ip);
      else
        redirty_tail(ip);
    }
    release(&wb.list_lock);
    wb_iput(ip);
    acquire(&wb.list_lock);
  }
  release(&wb.list_lock);
  return written;
}

// Run one kind of writeback until its goal is met or nothing is left.
static void
wb_writeback(struct wb_work *work)
{
  for (;;) {
    if (work->nr_pages <= 0)
      break;
    if (work->for_background && !over_bground_thresh())
      break;
    // A long background run gives way to the periodic work when it is
    // due, so that old data (and the metadata commit) is not held up by
    // a writer that keeps the dirty count high.  The flusher's loop
    // comes back to the background work afterwards.
    if (work->for_background && periodic_due(ticks))
      break;
    acquire(&wb.list_lock);
    if (list_empty(&wb.b_io))
      queue_io(work->older_than);
    int empty = list_empty(&wb.b_io);
    release(&wb.list_lock);
    if (empty)
      break;
    if (writeback_inodes(work) == 0) {
      if (!work->for_background)
        break;   // nothing could be written now (all busy): try later
      // Over the threshold but everything is already on its way to the
      // disk: wait a tick for some of it to finish.
      acquire(&tickslock);
      sleep(&ticks, &tickslock);
      release(&tickslock);
    }
  }
}

// Is the periodic writeback (kupdate) due?
static int
periodic_due(uint64 now)
{
  uint64 interval = vm_tunables.dirty_writeback_centisecs * TICK_HZ / 100;

  return interval && now - wb.last_old_flush >= interval;
}

// The flusher's main loop.
static void
flusher(void *arg)
{
  for (;;) {
    acquire(&tickslock);
    for (;;) {
      if (wb.work || over_bground_thresh() || periodic_due(ticks))
        break;
      sleep(&ticks, &tickslock);
    }
    uint64 now = ticks;
    release(&tickslock);

    acquire(&wb.list_lock);
    int work = wb.work;
    wb.work = 0;
    int background = (work & WB_REASON_BACKGROUND) || over_bground_thresh();
    if (background)
      wb.running = WB_REASON_BACKGROUND;
    release(&wb.list_lock);

    if (background) {
      struct wb_work w = { .nr_pages = LLONG_MAX, .for_background = 1, .older_than = now };
      wb_writeback(&w);
      // From here a writer past the threshold wakes the flusher again;
      // the loop above also looks at the threshold before it sleeps.
      __atomic_store_n(&wb.running, 0, __ATOMIC_RELEASE);
    }
    if (work & WB_REASON_RECLAIM) {
      struct wb_work w = { .nr_pages = 1024, .for_reclaim = 1, .older_than = now };
      wb_writeback(&w);
    }
    now = ticks;   // the work above may have taken a while
    uint64 interval = vm_tunables.dirty_writeback_centisecs * TICK_HZ / 100;
    if (interval && now - wb.last_old_flush >= interval) {
      // kupdate: everything dirty for longer than the expire interval.
      uint64 expire = vm_tunables.dirty_expire_centisecs * TICK_HZ / 100;
      wb.last_old_flush = now;
      // As much as was dirty when the pass began: a writer that keeps a
      // big file dirty must not keep the flusher in this pass for ever.
      struct wb_work w = {
        .nr_pages = global_node_page_state(NR_FILE_DIRTY),
        .for_kupdate = 1,
        .older_than = now > expire ? now - expire : 0,
      };
      wb_writeback(&w);
    }
  }
}

// The flusher's lists, for wbstat(2).
void
wb_list_stats(uint64 *ndirty, uint64 *nio, uint64 *nmore, uint64 *oldest_ms)
{
  struct inode *ip;

  *ndirty = *nio = *nmore = *oldest_ms = 0;
  acquire(&wb.list_lock);
  list_for_each_entry(ip, &wb.b_dirty, i_io_list)
    (*ndirty)++;
  list_for_each_entry(ip, &wb.b_io, i_io_list)
    (*nio)++;
  list_for_each_entry(ip, &wb.b_more_io, i_io_list)
    (*nmore)++;
  uint64 oldest = ticks;
  struct list_head *lists[] = { &wb.b_dirty, &wb.b_io, &wb.b_more_io };
  for (int l = 0; l < 3; l++)
    list_for_each_entry(ip, lists[l], i_io_list)
      if (ip->dirtied_when < oldest)
        oldest = ip->dirtied_when;
  *oldest_ms = (ticks - oldest) * 1000 / TICK_HZ;
  release(&wb.list_lock);
}
