// Folios: allocation, references, the folio lock, and waiting for
// writeback.  See folio.h.
//
// Waiting: a folio has no wait queue of its own.  Sleepers use the folio's
// address as the sleep channel, under one of a few spin locks picked by
// hashing that address.  A sleeper sets PG_waiters before it tests the
// flag it waits for; whoever clears PG_locked or PG_writeback looks at
// PG_waiters afterwards and, only if it is set, takes the same spin lock
// and wakes the channel.  Either the sleeper's test sees the flag cleared,
// or the waker sees PG_waiters: no wakeup can slip between a sleeper's
// test and its sleep.  Most unlocks have no sleeper, and skip the wakeup,
// which has to look at every process.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "mm/folio.h"
#include "proc/proc.h"

// One struct folio per page of RAM, in memory that kinit() sets aside
// right after the kernel image.
static struct folio *folio_table;

#define NWAITLOCKS 64
static struct spinlock waitlocks[NWAITLOCKS];

// Called by kinit() before any page is handed out: the table takes the
// pages from start on.  Returns the first address after it.
uint64
folio_table_init(uint64 start)
{
  uint64 npages = (PHYSTOP - KERNBASE) / PGSIZE;

  folio_table = (struct folio *)start;
  memset(folio_table, 0, npages * sizeof(struct folio));
  return PGROUNDUP(start + npages * sizeof(struct folio));
}

void
folio_init(void)
{
  for (int i = 0; i < NWAITLOCKS; i++)
    initlock(&waitlocks[i], "folio_wait");
}

static struct spinlock *
waitlock(struct folio *folio)
{
  return &waitlocks[((uint64)folio / sizeof(*folio)) % NWAITLOCKS];
}

// The table entry of the page that holds pa: a folio's head, a tail page,
// or a free block's first page.  The page allocator's view.
struct folio *
page_entry(void *pa)
{
  uint64 a = (uint64)pa;

  if (a < KERNBASE || a >= PHYSTOP)
    panic("page_entry: %p is not RAM", pa);
  return &folio_table[(a - KERNBASE) / PGSIZE];
}

// The folio that holds the byte at addr: for a tail page, the head, found
// by alignment (a folio of order k starts at a multiple of 2^k pages).
struct folio *
virt_to_folio(void *addr)
{
  struct folio *entry = page_entry(addr);

  if (!folio_test_flag(entry, PG_tail))
    return entry;
  uint64 n = entry - folio_table;
  return &folio_table[n & ~((1UL << entry->order) - 1)];
}

void *
folio_address(struct folio *folio)
{
  return (void *)(KERNBASE + (uint64)(folio - folio_table) * PGSIZE);
}

// A fresh folio of 2^order pages with one reference, no flags, in no
// cache; or 0 when no free block is that large.
struct folio *
folio_alloc(int order)
{
  void *page = kalloc_pages(order);

  return page ? folio_init_page(page, order) : 0;
}

// Make a newly allocated block of 2^order pages a folio with one
// reference; its other pages become tail pages.
struct folio *
folio_init_page(void *page, int order)
{
  struct folio *folio = page_entry(page);

  memset(folio, 0, sizeof(*folio) << order);
  folio->refcount = 1;
  folio->order = order;
  INIT_LIST_HEAD(&folio->lru);
  for (int i = 1; i < (1 << order); i++) {
    folio[i].flags = 1UL << PG_tail;
    folio[i].order = order;
  }
  return folio;
}

struct folio *
folio_get(struct folio *folio)
{
  __atomic_fetch_add(&folio->refcount, 1, __ATOMIC_SEQ_CST);
  return folio;
}

// Take a reference unless the count is 0: a folio being freed, or one
// that split_folio() holds frozen.  For code that finds folios without
// the mapping's i_pages_lock (reclaim, on the LRU list).  Returns 1 if it
// took one.
int
folio_try_get(struct folio *folio)
{
  int n = __atomic_load_n(&folio->refcount, __ATOMIC_SEQ_CST);

  while (n > 0)
    if (__atomic_compare_exchange_n(&folio->refcount, &n, n + 1, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
      return 1;
  return 0;
}

// Drop a reference; the last one frees the pages.
void
folio_put(struct folio *folio)
{
  int left = __atomic_sub_fetch(&folio->refcount, 1, __ATOMIC_SEQ_CST);

  if (left < 0)
    panic("folio_put: refcount below zero");
  if (left == 0) {
    if (folio->mapping || (folio->flags & ((1UL << PG_dirty) | (1UL << PG_writeback) | (1UL << PG_lru))))
      panic("folio_put: freeing a folio still in use (flags %p)", (void *)folio->flags);
    for (long i = 1; i < folio_nr_pages(folio); i++)
      folio[i].flags = 0;   // no longer tail pages
    kfree_pages(folio_address(folio), folio->order);
  }
}

// Take the folio lock, sleeping until it is free.
void
folio_lock(struct folio *folio)
{
  struct spinlock *lk = waitlock(folio);

  if (!folio_test_set_flag(folio, PG_locked))
    return;   // the common case: it was free
  acquire(lk);
  for (;;) {
    folio_set_flag(folio, PG_waiters);
    if (!folio_test_set_flag(folio, PG_locked))
      break;
    sleep(folio, lk);
  }
  release(lk);
}

// Take the lock if it is free.  Returns 1 on success.
int
folio_trylock(struct folio *folio)
{
  return !folio_test_set_flag(folio, PG_locked);
}

void
folio_unlock(struct folio *folio)
{
  if (!folio_test_clear_flag(folio, PG_locked))
    panic("folio_unlock: not locked");
  folio_wake(folio);
}

// Wake everyone waiting on the folio, if anyone is: called after
// PG_writeback (or PG_locked) is cleared.  Safe in interrupt context.
void
folio_wake(struct folio *folio)
{
  if (!((__atomic_load_n(&folio->flags, __ATOMIC_SEQ_CST) >> PG_waiters) & 1))
    return;
  struct spinlock *lk = waitlock(folio);
  acquire(lk);
  // Every sleeper wakes and sets PG_waiters again if it still waits.
  folio_clear_flag(folio, PG_waiters);
  wakeup(folio);
  release(lk);
}

// Sleep until no writeback is in flight on the folio.
void
folio_wait_writeback(struct folio *folio)
{
  struct spinlock *lk = waitlock(folio);

  if (!folio_test_writeback(folio))
    return;
  acquire(lk);
  for (;;) {
    folio_set_flag(folio, PG_waiters);
    if (!folio_test_writeback(folio))
      break;
    sleep(folio, lk);
  }
  release(lk);
}

// Sleep until the folio is unlocked (without taking the lock).
void
folio_wait_locked(struct folio *folio)
{
  struct spinlock *lk = waitlock(folio);

  acquire(lk);
  for (;;) {
    folio_set_flag(folio, PG_waiters);
    if (!folio_test_locked(folio))
      break;
    sleep(folio, lk);
  }
  release(lk);
}
