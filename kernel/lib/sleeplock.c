// Sleeping locks.  See sleeplock.h.
#include "types.h"
#include "lib/lib.h"
#include "lib/sleeplock.h"
#include "proc/proc.h"

void
initsleeplock(struct sleeplock *lk, const char *name)
{
  initlock(&lk->lk, "sleeplock");
  lk->name = name;
  lk->locked = 0;
  lk->pid = 0;
  lk->waiters = 0;
}

void
acquiresleep(struct sleeplock *lk)
{
  acquire(&lk->lk);
  while (lk->locked) {
    lk->waiters++;
    sleep(lk, &lk->lk);
    lk->waiters--;
  }
  lk->locked = 1;
  lk->pid = myproc()->pid;
  release(&lk->lk);
}

// Take the lock if it is free; never sleeps.  Returns 1 on success.
int
tryacquiresleep(struct sleeplock *lk)
{
  int got = 0;

  acquire(&lk->lk);
  if (!lk->locked) {
    lk->locked = 1;
    lk->pid = myproc()->pid;
    got = 1;
  }
  release(&lk->lk);
  return got;
}

void
releasesleep(struct sleeplock *lk)
{
  acquire(&lk->lk);
  lk->locked = 0;
  lk->pid = 0;
  if (lk->waiters > 0)
    wakeup(lk);
  release(&lk->lk);
}

int
holdingsleep(struct sleeplock *lk)
{
  int r;

  acquire(&lk->lk);
  r = lk->locked && lk->pid == myproc()->pid;
  release(&lk->lk);
  return r;
}
