// Folios: the page cache's unit of memory.
//
// In Quire a folio is one 4096-byte page (Linux's folios can be larger;
// the names and meanings here are Linux's).  Every physical page has a
// struct folio in folio_table, found from the page's address; it is used
// while the page belongs to the page cache.
//
// Flags (set and cleared atomically, so they may be tested without locks):
//   PG_locked      someone holds the folio lock (folio_lock): the folio's
//                  contents or its place in the cache are being changed
//   PG_uptodate    the contents are valid (read from disk, or written)
//   PG_dirty       the contents are newer than the disk
//   PG_writeback   a write of the contents to the disk is in flight
//   PG_lru         the folio is on the LRU list (reclaim)
//   PG_mappedtodisk  the file block behind the folio is allocated on disk
//   PG_delalloc    dirty, with no disk block yet: space is reserved for it
//   PG_referenced  used since reclaim last looked (second chance)
//   PG_waiters     someone may be asleep waiting for PG_locked or
//                  PG_writeback to clear: whoever clears one must wake them
//   PG_readahead   the first folio of the readahead window not yet needed:
//                  a reader that reaches it starts the next window
#ifndef QUIRE_FOLIO_H
#define QUIRE_FOLIO_H

#include "types.h"
#include "riscv.h"
#include "lib/list.h"

enum pageflags {
  PG_locked,
  PG_uptodate,
  PG_dirty,
  PG_writeback,
  PG_lru,
  PG_mappedtodisk,
  PG_delalloc,
  PG_referenced,
  PG_waiters,
  PG_readahead,
};

struct address_space;

struct folio {
  uint64 flags;                  // PG_* bits
  int refcount;                  // references; the page is freed at 0
  int mapcount;                  // user page-table entries mapping it
  struct address_space *mapping; // the file it caches, or 0
  pgoff_t index;                 // its page index in the file
  struct list_head lru;          // on the LRU list (reclaim.c)
};

void folio_init(void);
uint64 folio_table_init(uint64 start);
struct folio *folio_alloc(void);
struct folio *folio_init_page(void *page);
struct folio *virt_to_folio(void *addr);
void *folio_address(struct folio *folio);

static inline long folio_nr_pages(struct folio *folio) { return 1; }
static inline loff_t folio_pos(struct folio *folio) { return (loff_t)folio->index << PGSHIFT; }

// Flag tests and changes.  The test_and_ forms return the old value.
static inline int folio_test_flag(struct folio *f, int bit)
{ return (__atomic_load_n(&f->flags, __ATOMIC_ACQUIRE) >> bit) & 1; }
static inline void folio_set_flag(struct folio *f, int bit)
{ __atomic_fetch_or(&f->flags, 1UL << bit, __ATOMIC_SEQ_CST); }
static inline void folio_clear_flag(struct folio *f, int bit)
{ __atomic_fetch_and(&f->flags, ~(1UL << bit), __ATOMIC_SEQ_CST); }
static inline int folio_test_set_flag(struct folio *f, int bit)
{ return (__atomic_fetch_or(&f->flags, 1UL << bit, __ATOMIC_SEQ_CST) >> bit) & 1; }
static inline int folio_test_clear_flag(struct folio *f, int bit)
{ return (__atomic_fetch_and(&f->flags, ~(1UL << bit), __ATOMIC_SEQ_CST) >> bit) & 1; }

#define folio_test_locked(f)     folio_test_flag(f, PG_locked)
#define folio_test_uptodate(f)   folio_test_flag(f, PG_uptodate)
#define folio_test_dirty(f)      folio_test_flag(f, PG_dirty)
#define folio_test_writeback(f)  folio_test_flag(f, PG_writeback)
#define folio_mark_uptodate(f)   folio_set_flag(f, PG_uptodate)

void folio_lock(struct folio *folio);
int folio_trylock(struct folio *folio);
void folio_unlock(struct folio *folio);
void folio_wait_writeback(struct folio *folio);
void folio_wait_locked(struct folio *folio);
void folio_wake(struct folio *folio);
struct folio *folio_get(struct folio *folio);
void folio_put(struct folio *folio);

#endif
