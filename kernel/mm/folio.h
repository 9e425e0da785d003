// Folios: the page cache's unit of memory.
//
// A folio is 2^order physically contiguous pages, order 0 to
// FOLIO_MAX_ORDER (1 to 16 pages, 4 to 64 KiB), aligned to its size: a
// *large folio* when order > 0.  It caches the same number of consecutive
// pages of one file, from an index that is a multiple of its size.  The
// names and meanings are Linux's.
//
// Every physical page has a struct folio in folio_table, found from the
// page's address.  A folio is the entry of its first page (the *head*);
// the entries of its other pages (*tail pages*) hold only PG_tail and the
// order, so that virt_to_folio() of any address inside finds the head.
// A free block of the page allocator (kalloc.c) keeps its state in its
// first page's entry too: PG_buddy, the order, and the lru link.
//
// Flags (set and cleared atomically, so they may be tested without locks):
//   PG_locked      someone holds the folio lock (folio_lock): the folio's
//                  contents or its place in the cache are being changed
//   PG_uptodate    the contents are valid (read from disk, or written)
//   PG_dirty       the contents are newer than the disk
//   PG_writeback   a write of the contents to the disk is in flight
//   PG_lru         the folio is on the LRU list (reclaim)
//   PG_mappedtodisk  the file block behind the page is allocated on disk
//   PG_delalloc    no disk block yet, but space is reserved for one: the
//                  page is (or is about to be) dirty
//                  These two are per page: a large folio may cover blocks
//                  and holes, so each of its pages keeps them in its own
//                  entry (folio_page_test() and friends, below).
//   PG_referenced  used since reclaim last looked (second chance)
//   PG_waiters     someone may be asleep waiting for PG_locked or
//                  PG_writeback to clear: whoever clears one must wake them
//   PG_readahead   the first folio of the readahead window not yet needed:
//                  a reader that reaches it starts the next window
//   PG_error       a read of part of the folio failed (read_end_io): the
//                  folio is not made uptodate when the rest arrives
//   PG_tail        this entry is a tail page of a large folio, not a folio
//   PG_buddy       this entry heads a free block of the page allocator
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
  PG_error,
  PG_tail,
  PG_buddy,
};

#define FOLIO_MAX_ORDER 4     // the largest folio: 16 pages, 64 KiB
// Files smaller than this are cached in single pages only (filemap.c,
// readahead.c): a large folio saves a small file little.
#define FOLIO_SMALL_FILE ((uint64)PGSIZE << FOLIO_MAX_ORDER)

struct address_space;

struct folio {
  uint64 flags;                  // PG_* bits
  int refcount;                  // references; the pages are freed at 0
  int mapcount;                  // user page-table entries mapping any of
                                 // its pages (one per page mapped)
  struct address_space *mapping; // the file it caches, or 0
  pgoff_t index;                 // the file index of its first page
  struct list_head lru;          // on the LRU list (reclaim.c); on a free
                                 // list while a free block (kalloc.c)
  uint32 order;                  // log2 of its pages (tail pages too)
  int io_pending;                // pages with a disk request in flight:
                                 // the last to finish ends the folio's
                                 // read or write (fs/aops.c)
};

void folio_init(void);
uint64 folio_table_init(uint64 start);
struct folio *folio_alloc(int order);
struct folio *folio_init_page(void *page, int order);
struct folio *page_entry(void *pa);
struct folio *virt_to_folio(void *addr);
void *folio_address(struct folio *folio);

static inline int folio_order(struct folio *folio) { return folio->order; }
static inline long folio_nr_pages(struct folio *folio) { return 1L << folio->order; }
static inline uint64 folio_size(struct folio *folio) { return (uint64)PGSIZE << folio->order; }
static inline loff_t folio_pos(struct folio *folio) { return (loff_t)folio->index << PGSHIFT; }
// The kernel address of page i of the folio (its pages are contiguous).
static inline void *folio_page_address(struct folio *folio, long i)
{ return (char *)folio_address(folio) + i * PGSIZE; }

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
#define folio_test_large(f)      ((f)->order > 0)

// The per-page flags (PG_mappedtodisk, PG_delalloc) of page i of a folio,
// kept in that page's entry of folio_table: the head's for page 0, the
// tail pages' for the others (entries of one folio are consecutive).
static inline int folio_page_test(struct folio *f, long i, int bit)
{ return folio_test_flag(f + i, bit); }
static inline void folio_page_set(struct folio *f, long i, int bit)
{ folio_set_flag(f + i, bit); }
static inline int folio_page_test_clear(struct folio *f, long i, int bit)
{ return folio_test_clear_flag(f + i, bit); }

void folio_lock(struct folio *folio);
int folio_trylock(struct folio *folio);
void folio_unlock(struct folio *folio);
void folio_wait_writeback(struct folio *folio);
void folio_wait_locked(struct folio *folio);
void folio_wake(struct folio *folio);
struct folio *folio_get(struct folio *folio);
int folio_try_get(struct folio *folio);
void folio_put(struct folio *folio);

#endif
