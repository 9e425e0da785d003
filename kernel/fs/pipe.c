// Pipes: a ring buffer in one page, with a reader end and a writer end.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "lib/sleeplock.h"
#include "mm/mm.h"
#include "mm/reclaim.h"
#include "proc/proc.h"
#include "fs/file.h"

struct pipe {
  struct spinlock lock;   // everything below but the sleep locks
  struct sleeplock rlock; // one reader at a time
  struct sleeplock wlock; // one writer at a time
  uint64 nread;      // bytes read, ever; the ring index is nread % PIPESIZE
  uint64 nwrite;     // bytes written, ever
  int readopen;      // the read end is still open
  int writeopen;     // the write end is still open
  char data[];       // the rest of the page
};

#define PIPESIZE (PGSIZE - sizeof(struct pipe))

// Make a pipe and its two file structures.  0, or -ENFILE/-ENOMEM.
int
pipealloc(struct file **f0, struct file **f1)
{
  struct pipe *pi = 0;
  int err = -ENFILE;

  *f0 = *f1 = 0;
  if ((*f0 = filealloc()) == 0 || (*f1 = filealloc()) == 0)
    goto bad;
  err = -ENOMEM;
  if ((pi = kalloc_reclaim()) == 0)
    goto bad;
  initlock(&pi->lock, "pipe");
  initsleeplock(&pi->rlock, "pipe_read");
  initsleeplock(&pi->wlock, "pipe_write");
  pi->readopen = pi->writeopen = 1;
  pi->nread = pi->nwrite = 0;
  (*f0)->type = FD_PIPE;
  (*f0)->readable = 1;
  (*f0)->pipe = pi;
  (*f1)->type = FD_PIPE;
  (*f1)->writable = 1;
  (*f1)->pipe = pi;
  return 0;

bad:
  if (*f0)
    fileclose(*f0);
  if (*f1)
    fileclose(*f1);
  return err;
}

void
pipeclose(struct pipe *pi, int writable)
{
  acquire(&pi->lock);
  if (writable) {
    pi->writeopen = 0;
    wakeup(&pi->nread);
  } else {
    pi->readopen = 0;
    wakeup(&pi->nwrite);
  }
  if (!pi->readopen && !pi->writeopen) {
    release(&pi->lock);
    kfree(pi);
  } else {
    release(&pi->lock);
  }
}

// Copies between user memory and the ring go through a small buffer on
// the kernel stack, outside the spin lock: touching user memory may fault
// and sleep (an mmap page read from the disk), which a spin lock forbids.
#define CHUNK 512

// Write n bytes from user address addr; sleeps while the pipe is full.
// Returns the bytes written, or -EPIPE if nobody can read them, -EFAULT,
// or -EINTR.  Writers take turns (wlock), so one write's bytes stay
// together.
int64
pipewrite(struct pipe *pi, uint64 addr, int64 n)
{
  struct proc *pr = myproc();
  char buf[CHUNK];
  int64 i = 0;
  int err = 0;

  acquiresleep(&pi->wlock);
  while (i < n && err == 0) {
    int64 m = MIN(n - i, CHUNK);
    if (copyin(pr->pagetable, buf, addr + i, m) < 0) {
      err = -EFAULT;
      break;
    }
    acquire(&pi->lock);
    for (int64 k = 0; k < m; ) {
      if (!pi->readopen || killed(pr)) {
        err = !pi->readopen ? -EPIPE : -EINTR;
        break;
      }
      if (pi->nwrite == pi->nread + PIPESIZE) {
        wakeup(&pi->nread);
        sleep(&pi->nwrite, &pi->lock);
        continue;
      }
      pi->data[pi->nwrite++ % PIPESIZE] = buf[k++];
      i++;
    }
    wakeup(&pi->nread);
    release(&pi->lock);
  }
  releasesleep(&pi->wlock);
  return i > 0 ? i : err;
}

// Read up to n bytes; sleeps while the pipe is empty and a writer remains.
// Returns the bytes read (0 at end of file), -EFAULT or -EINTR.  Readers
// take turns (rlock), so bytes are consumed only after they were copied
// out: a bad buffer loses nothing.
int64
piperead(struct pipe *pi, uint64 addr, int64 n)
{
  struct proc *pr = myproc();
  char buf[CHUNK];
  int64 i = 0;

  acquiresleep(&pi->rlock);
  acquire(&pi->lock);
  while (pi->nread == pi->nwrite && pi->writeopen) {
    if (killed(pr)) {
      release(&pi->lock);
      releasesleep(&pi->rlock);
      return -EINTR;
    }
    sleep(&pi->nread, &pi->lock);
  }
  while (i < n && pi->nread != pi->nwrite) {
    int64 m = MIN(MIN(n - i, CHUNK), (int64)(pi->nwrite - pi->nread));
    for (int64 k = 0; k < m; k++)
      buf[k] = pi->data[(pi->nread + k) % PIPESIZE];
    release(&pi->lock);
    int bad = copyout(pr->pagetable, addr + i, buf, m) < 0;
    acquire(&pi->lock);
    if (bad) {
      if (i == 0)
        i = -EFAULT;
      break;
    }
    pi->nread += m;
    i += m;
  }
  wakeup(&pi->nwrite);
  release(&pi->lock);
  releasesleep(&pi->rlock);
  return i;
}
