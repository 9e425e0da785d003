// The writeback trace ring.  Events are cheap to record (a spin lock and a
// 40-byte copy), so tracing is always on; the ring keeps the most recent
// NTRACE events and readers ask for those after a sequence number.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/wbtrace.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/writeback.h"
#include "mm/trace.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "trap/trap.h"
#include "fs/fs.h"

#define NTRACE 8192

static struct {
  struct spinlock lock;
  uint64 seq;                         // the last event's number
  struct wbtrace_event ev[NTRACE];
} ring;

void
trace_init(void)
{
  initlock(&ring.lock, "trace");
}

void
trace_event(int type, uint32 ino, uint64 index, int64 aux, int mode)
{
  uint64 now = uptime_us();

  acquire(&ring.lock);
  // Events from a device interrupt belong to no process.
  struct proc *p = mycpu()->in_intr ? 0 : mycpu()->proc;
  struct wbtrace_event *e = &ring.ev[ring.seq % NTRACE];
  e->seq = ++ring.seq;
  e->time_us = now;
  e->index = index;
  e->aux = aux;
  e->ino = ino;
  e->pid = p ? p->pid : 0;
  e->type = type;
  e->mode = mode;
  release(&ring.lock);
}

void
trace_folio(int type, struct folio *folio)
{
  struct address_space *mapping = folio->mapping;

  trace_event(type, mapping && mapping->host ? mapping->host->inum : 0, folio->index, 0, 0);
}

// After tag_pages_for_writeback(): count the folios of [start, end] that
// are now tagged TOWRITE and dirty, for the trace and for the tagging
// process's counter (wbstat's self_tagged), which the livelock tests
// compare with the folios the same call writes.
void
account_tagged(struct address_space *mapping, pgoff_t start, pgoff_t end)
{
  unsigned long index = start;
  uint64 n = 0;
  struct folio *folio;

  acquire(&mapping->i_pages_lock);
  while (index <= end && (folio = xa_find(&mapping->i_pages, &index, end, PAGECACHE_TAG_TOWRITE))) {
    if (folio_test_dirty(folio))
      n++;
    if (index++ == end)
      break;
  }
  release(&mapping->i_pages_lock);
  struct proc *p = myproc();
  if (p)
    p->wb_tagged += n;
  trace_event(TR_TOWRITE, mapping->host ? mapping->host->inum : 0, start, n, 0);
}

int
wbc_trace_mode(struct writeback_control *wbc)
{
  return (wbc->sync_mode == WB_SYNC_ALL ? WBTRACE_SYNC_ALL : 0) |
         (wbc->for_kupdate ? WBTRACE_KUPDATE : 0) |
         (wbc->for_background ? WBTRACE_BACKGROUND : 0) |
         (wbc->for_reclaim ? WBTRACE_RECLAIM : 0) |
         (wbc->for_sync ? WBTRACE_SYNC : 0) |
         (wbc->range_cyclic ? WBTRACE_CYCLIC : 0);
}

// wbtrace(buf, n, since): copy up to n events numbered after since, oldest
// first, to the user buffer.  Events that the ring has already overwritten
// are gone; the first event copied tells by its seq.  Returns the count.
int64
sys_wbtrace(void)
{
  uint64 buf = argaddr(0);
  int n = argint(1);
  uint64 since = argraw(2);
  struct wbtrace_event e;
  int copied = 0;

  if (n < 0)
    return -EINVAL;
  for (;;) {
    acquire(&ring.lock);
    uint64 oldest = ring.seq > NTRACE ? ring.seq - NTRACE + 1 : 1;
    uint64 next = MAX(since + 1, oldest);
    if (copied >= n || next > ring.seq) {
      release(&ring.lock);
      return copied;
    }
    e = ring.ev[(next - 1) % NTRACE];   // event s is stored at (s-1) % NTRACE
    release(&ring.lock);
    // Copy outside the lock: copyout may fault.
    if (copyout(myproc()->pagetable, buf + copied * sizeof(e), &e, sizeof(e)) < 0)
      return copied > 0 ? copied : -EFAULT;
    copied++;
    since = e.seq;
  }
}
