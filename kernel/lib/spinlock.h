// Spin locks: mutual exclusion between harts for short critical sections.
//
// While a hart holds a spin lock its interrupts are off, so an interrupt
// handler on the same hart can never spin forever on a lock its own hart
// holds.  push_off()/pop_off() count nesting so that interrupts come back
// on only when the outermost lock is released.
#ifndef QUIRE_SPINLOCK_H
#define QUIRE_SPINLOCK_H

#include "types.h"

struct cpu;

struct spinlock {
  uint locked;        // 0 free, 1 held
  const char *name;   // for debugging
  struct cpu *cpu;    // the hart holding it
};

void initlock(struct spinlock *lk, const char *name);
void acquire(struct spinlock *lk);
void release(struct spinlock *lk);
int holding(struct spinlock *lk);
void push_off(void);
void pop_off(void);

#endif
