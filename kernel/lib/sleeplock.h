// Sleeping locks: for long critical sections that may wait for the disk.
//
// A process that finds the lock held sleeps instead of spinning, so the
// hart runs something else meanwhile.  Never take one in an interrupt
// handler, and never hold a spin lock while taking one.
#ifndef QUIRE_SLEEPLOCK_H
#define QUIRE_SLEEPLOCK_H

#include "lib/spinlock.h"

struct sleeplock {
  uint locked;
  struct spinlock lk;   // protects this structure
  const char *name;
  int pid;              // holder, for debugging
  int waiters;          // processes asleep in acquiresleep: release
                        // wakes them only if there are any
};

void initsleeplock(struct sleeplock *lk, const char *name);
void acquiresleep(struct sleeplock *lk);
int tryacquiresleep(struct sleeplock *lk);
void releasesleep(struct sleeplock *lk);
int holdingsleep(struct sleeplock *lk);

#endif
