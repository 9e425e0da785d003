// The writeback trace ring: the probe behind the kernel's trace points
// (lib/trace.h) and wbtrace(2), which reads it (uapi/wbtrace.h).
//
// Recording an event costs a spin lock and a 40-byte copy, so tracing is
// always on; the ring keeps the most recent NTRACE events, and readers
// ask for those after a sequence number.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/wbtrace.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "lib/trace.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "trap/trap.h"
#include "debug/debug.h"

#define NTRACE 8192

static struct {
  struct spinlock lock;
  uint64 seq;                         // the last event's number
  struct wbtrace_event ev[NTRACE];
} ring;

static void
record(int type, uint32 ino, uint64 index, int64 aux, int mode)
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
wbtrace_init(void)
{
  initlock(&ring.lock, "wbtrace");
  trace_attach(record);
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
