// Splitting a large folio into folios of one page.
//
// A large folio is split when only part of it has to go: truncate cuts
// the file inside it (truncate.c), or reclaim wants the pages of it that
// no process maps while a process maps others (reclaim.c).  Afterwards
// every page is a folio of its own, at the same place in the cache, with
// the large folio's state: its flags (the per-page ones, PG_mappedtodisk
// and PG_delalloc, were in each page's entry all along), its marks (the
// xarray copies them to each new entry), and, page by page, the
// references and map counts of the page-table entries that map it.  The
// page counters (NR_FILE_PAGES, NR_FILE_DIRTY, ...) count pages, so they
// do not change.  The physical pages stay where they are; freeing them
// one by one later gives the page allocator its 64 KiB block back only
// when the last one goes (kalloc.c merges buddies).
//
// Nobody may hold a reference to the large folio but the cache, the
// caller and the page-table entries: a reader with one would be left
// holding what is now the first page only.  The count is checked and
// frozen at 0 in one atomic step under the mapping's i_pages_lock (which
// every lookup takes); reclaim, the one taker of references without that
// lock, uses folio_try_get(), which refuses a frozen count.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/reclaim.h"
#include "mm/rmap.h"
#include "mm/split.h"

// What each page inherits from the large folio's own flags.
#define INHERITED ((1UL << PG_uptodate) | (1UL << PG_dirty) | (1UL << PG_referenced))
// What each page's entry already holds for itself.
#define PER_PAGE ((1UL << PG_mappedtodisk) | (1UL << PG_delalloc))

// Make page i (i > 0) of the frozen large folio a folio of its own, in
// the cache, with the references of the counts[i] entries that map it.
static struct folio *
make_page_folio(struct folio *folio, long i, int count)
{
  struct folio *page = folio + i;

  page->flags = (folio->flags & INHERITED) | (page->flags & PER_PAGE);
  page->refcount = 1 + count;   // the cache's, and each entry's
  page->mapcount = count;
  page->mapping = folio->mapping;
  page->index = folio->index + i;
  page->order = 0;
  page->io_pending = 0;
  INIT_LIST_HEAD(&page->lru);
  return page;
}

/**
 * split_folio - split a large folio into folios of one page
 * @folio: a large folio in the page cache, locked by the caller, who
 *         holds one reference; not under writeback
 *
 * On success the folio is the first page's folio, still locked and
 * referenced by the caller; the other pages are folios of their own, in
 * the cache and on the LRU list, unlocked.
 * Return: 0, or -EBUSY if someone else holds a reference (the folio is
 * then left whole).
 */
int
split_folio(struct folio *folio)
{
  struct address_space *mapping = folio->mapping;
  long n = folio_nr_pages(folio);
  int counts[1 << FOLIO_MAX_ORDER];
  void *entries[1 << FOLIO_MAX_ORDER];

  if (!folio_test_large(folio))
    return 0;
  if (mapping == 0 || !folio_test_locked(folio) || folio_test_writeback(folio))
    panic("split_folio: folio not locked, in no file, or under writeback");
  acquire(&mapping->i_pages_lock);
  int expected = 2 + folio->mapcount;   // the cache, the caller, the entries
  if (!__atomic_compare_exchange_n(&folio->refcount, &expected, 0, 0, __ATOMIC_SEQ_CST,
                                   __ATOMIC_SEQ_CST)) {
    release(&mapping->i_pages_lock);
    return -EBUSY;
  }
  folio_page_mapcounts(folio, counts);
  int sum = 0;
  for (long i = 0; i < n; i++)
    sum += counts[i];
  if (sum != folio->mapcount)
    panic("split_folio: %d entries map the folio, mapcount says %d", sum, folio->mapcount);
  entries[0] = folio;
  for (long i = 1; i < n; i++)
    entries[i] = make_page_folio(folio, i, counts[i]);
  folio->order = 0;
  folio->mapcount = counts[0];
  xa_split(&mapping->i_pages, folio->index, entries);
  __atomic_store_n(&folio->refcount, 2 + counts[0], __ATOMIC_SEQ_CST);   // thaw
  release(&mapping->i_pages_lock);
  for (long i = 1; i < n; i++)
    lru_add(folio + i);
  return 0;
}
