// Dirty limits and dirty throttling.
//
// Dirty pages cost memory and, worse, time: each one must be written
// before its page can be reused.  Past dirty_background_ratio of memory
// the flusher starts writing in the background; past dirty_ratio, a
// process that wants to dirty more pages sleeps here until writeback has
// brought the count back down.  The writer never writes pages itself: the
// flusher does, in large ordered batches, which is what the disk likes.
//
// The hard limit counts pages under writeback with the dirty ones, as
// Linux's does: a page whose write has started is no more free than a
// dirty one until the disk has it.  (Counting only dirty pages let a
// writer outrun a slow disk by as much memory as the disk queue could
// hold: with large folios, a request of 64 pages takes a handful of
// descriptors, and the queue holds tens of megabytes.)  The background
// threshold counts dirty pages only: pages under writeback need no
// flusher.
//
// A throttled writer always makes progress: should writeback make none
// for a while (every dirty page stuck, say, on a full disk), the writer is
// let through rather than left asleep forever.
#include "types.h"
#include "param.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "mm/pagemap.h"
#include "mm/vmstat.h"
#include "mm/writeback.h"
#include "mm/sysctl.h"
#include "lib/trace.h"
#include "proc/proc.h"
#include "trap/trap.h"

#define STALL_TICKS 100   // let a writer go after 1 s without progress

uint64 nr_throttled;      // times a writer slept here, for wbstat
static int throttled_now; // writers asleep here at this moment

// Dirty-page limits, in pages, from the tunables: a share of the memory
// that could hold page-cache data (free pages plus cached ones).
static uint64
dirtyable_pages(void)
{
  return nr_free_pages() + global_node_page_state(NR_FILE_PAGES);
}

// Never below this many pages, so that a machine short of memory for
// other reasons does not throttle every single write.
#define MIN_DIRTY_THRESH 64

uint64
dirty_background_thresh(void)
{
  return MAX(dirtyable_pages() * vm_tunables.dirty_background_ratio / 100, MIN_DIRTY_THRESH / 2);
}

uint64
dirty_thresh(void)
{
  return MAX(dirtyable_pages() * vm_tunables.dirty_ratio / 100, MIN_DIRTY_THRESH);
}

// Pages the hard limit counts: dirty, or under writeback.
static uint64
dirty_and_writeback(void)
{
  return global_node_page_state(NR_FILE_DIRTY) + global_node_page_state(NR_WRITEBACK);
}

// Writeback's progress, for the stall limit: a number that moves whenever
// a write starts or ends.
static uint64
progress(void)
{
  return global_node_page_state(NR_WRITTEN) * 2 + global_node_page_state(NR_WRITEBACK);
}

/**
 * balance_dirty_pages_ratelimited - throttle a process that dirties pages
 * @mapping: the file being written
 *
 * Called before each folio a write(2) dirties (once for up to 16 pages).
 * Wakes the flusher past the background threshold; sleeps past the hard
 * threshold.
 */
void
balance_dirty_pages_ratelimited(struct address_space *mapping)
{
  uint64 dirty = global_node_page_state(NR_FILE_DIRTY);

  if (dirty > dirty_background_thresh())
    wakeup_flusher(WB_REASON_BACKGROUND);
  if (dirty_and_writeback() <= dirty_thresh())
    return;

  struct proc *p = myproc();
  uint64 seen = progress(), now;
  uint64 stalled = 0;
  __atomic_fetch_add(&nr_throttled, 1, __ATOMIC_RELAXED);
  trace_event(TR_THROTTLE, mapping_ino(mapping), 0, dirty_and_writeback(), 0);
  acquire(&tickslock);
  __atomic_fetch_add(&throttled_now, 1, __ATOMIC_SEQ_CST);
  while (dirty_and_writeback() > dirty_thresh() && !p->killed && stalled < STALL_TICKS) {
    uint64 t = ticks;
    sleep(&ticks, &tickslock);
    now = progress();
    // Count only ticks: dirty_throttle_wake() wakes us between them too.
    if (ticks != t)
      stalled = now == seen ? stalled + 1 : 0;
    seen = now;
  }
  __atomic_fetch_sub(&throttled_now, 1, __ATOMIC_SEQ_CST);
  release(&tickslock);
}

/**
 * dirty_throttle_wake - writeback made progress: let throttled writers go
 *
 * Called when writes end (folio_end_writeback(), in interrupt context
 * too) and after each ->writepages.  A throttled writer otherwise waits
 * for the next tick (10 ms) to look again, and on a fast disk writeback
 * brings the count down far sooner than that: the writer, not the disk,
 * would then set the pace.  Cheap when nobody is throttled.
 */
void
dirty_throttle_wake(void)
{
  if (__atomic_load_n(&throttled_now, __ATOMIC_SEQ_CST) == 0 ||
      dirty_and_writeback() > dirty_thresh())
    return;
  acquire(&tickslock);
  wakeup(&ticks);
  release(&tickslock);
}
