// Spin locks.  See spinlock.h.
#include "types.h"
#include "riscv.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "proc/proc.h"

void
initlock(struct spinlock *lk, const char *name)
{
  lk->name = name;
  lk->locked = 0;
  lk->cpu = 0;
}

void
acquire(struct spinlock *lk)
{
  push_off();
  if (holding(lk))
    panic("acquire: %s already held by this hart", lk->name);

  // amoswap.w.aq: atomically set locked to 1; acquire ordering keeps the
  // critical section's loads and stores after it.
  while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0)
    ;
  lk->cpu = mycpu();
}

void
release(struct spinlock *lk)
{
  if (!holding(lk))
    panic("release: %s not held", lk->name);
  lk->cpu = 0;
  // Release ordering: the critical section's stores are visible first.
  __atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
  pop_off();
}

// Does this hart hold lk?  Call with interrupts off.
int
holding(struct spinlock *lk)
{
  return lk->locked && lk->cpu == mycpu();
}

// Under QEMU every access to a control register ends the block of
// translated code and goes back to QEMU's main loop, so push_off and
// pop_off touch sstatus once each: csrrc reads the old state and clears
// SIE in one instruction, and pop_off does not read it back to check.
void
push_off(void)
{
  uint64 old;

  asm volatile("csrrc %0, sstatus, %1" : "=r"(old) : "r"(SSTATUS_SIE));
  int was_on = (old & SSTATUS_SIE) != 0;
  struct cpu *c = mycpu();
  if (c->noff == 0)
    c->intena = was_on;
  c->noff++;
}

void
pop_off(void)
{
  struct cpu *c = mycpu();

  if (c->noff < 1)
    panic("pop_off: unbalanced");
  c->noff--;
  if (c->noff == 0 && c->intena)
    intr_on();
}
