// Readahead: reading a file's folios before a sequential reader asks.
//
// Linux's on-demand readahead, in small.  Each file has a window,
// mapping->ra: the folios last read ahead.  A read that misses the cache
// (page_cache_sync_ra) looks at where it is:
//
//   - at the start of the file, or right after the previous read: the
//     reader is sequential; read the pages asked for and as many again
//     ahead of them (at least RA_INIT, at most RA_MAX);
//   - anywhere else: a random read; read just the pages asked for, so a
//     random reader pays for nothing it does not use.
//
// A window's first page not asked for carries PG_readahead.  A reader
// that reaches it (page_cache_async_ra) is still sequential, and starts
// the next window, twice as large up to RA_MAX, while the rest of the
// current one is still ahead of it: the disk reads while the reader
// copies, and a steady reader never waits.
//
// The window's folios go to the file system's ->readahead in one call
// per run that is not cached yet, so that it can read consecutive blocks
// in one disk request.  The window state has no lock: two readers of one
// file may race on it, and the worst that does is a window of the wrong
// size, since every size is clamped.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "lib/lib.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/reclaim.h"
#include "fs/fs.h"

#define RA_INIT 8      // pages in a sequential reader's first window
#define RA_MAX  128    // the largest window ahead: 512 KiB, two disk requests
#define RA_BATCH 64    // pages handed to ->readahead at once (BLK_MAXSEG)

// Hand the gathered folios to the file system, which unlocks them.
static void
ra_flush(struct address_space *mapping, struct folio **batch, int *n, int *npages)
{
  if (*n == 0)
    return;
  if (mapping->a_ops->readahead) {
    mapping->a_ops->readahead(mapping, batch, *n);
  } else {
    for (int i = 0; i < *n; i++)
      mapping->a_ops->read_folio(0, batch[i]);
  }
  for (int i = 0; i < *n; i++)
    folio_put(batch[i]);
  *n = *npages = 0;
}

// The order of a new folio at index for readahead that reads up to (not
// including) index end, in a file of size bytes: the largest aligned
// folio that stays inside the window and the file.  So the ragged end of
// a window gets smaller folios, and a small file single pages.
static int
ra_order(pgoff_t index, pgoff_t end, uint64 size)
{
  int order = FOLIO_MAX_ORDER;

  if (size < FOLIO_SMALL_FILE)
    return 0;
  while (order > 0 && (index % (1UL << order) || index + (1UL << order) > end))
    order--;
  return order;
}

// A new locked folio at index in the cache, of up to 2^order pages, or
// NULL if memory is short or someone else added a folio meanwhile.
static struct folio *
ra_alloc(struct address_space *mapping, pgoff_t index, int order)
{
  struct folio *folio = folio_alloc_reclaim(filemap_fit_order(mapping, index, order));

  if (folio == 0)
    return 0;
  folio_set_flag(folio, PG_locked);
  if (filemap_add_folio(mapping, folio, index) != 0) {
    folio_clear_flag(folio, PG_locked);
    folio_put(folio);
    return 0;
  }
  return folio;
}

// Read the folios of [start, start + nr) that are not cached, not past
// the end of the file; the one that holds mark (if inside) gets
// PG_readahead.
static void
ra_submit(struct address_space *mapping, pgoff_t start, unsigned long nr, pgoff_t mark)
{
  uint64 size = __atomic_load_n(&mapping->host->size, __ATOMIC_RELAXED);
  struct folio *batch[RA_BATCH];
  int n = 0, npages = 0;

  if (size == 0)
    return;
  pgoff_t end = MIN(start + nr, (size - 1) / PGSIZE + 1);
  for (pgoff_t i = start; i < end; ) {
    struct folio *folio = filemap_get_folio(mapping, i);
    if (folio) {
      i = folio->index + folio_nr_pages(folio);
      folio_put(folio);
      ra_flush(mapping, batch, &n, &npages);   // a cached folio ends a run
      continue;
    }
    if ((folio = ra_alloc(mapping, i, ra_order(i, end, size))) == 0) {
      ra_flush(mapping, batch, &n, &npages);
      i++;
      continue;
    }
    long pages = folio_nr_pages(folio);
    if (npages + pages > RA_BATCH)
      ra_flush(mapping, batch, &n, &npages);
    if (mark >= i && mark < i + pages)
      folio_set_flag(folio, PG_readahead);
    batch[n++] = folio;
    npages += pages;
    i += pages;
  }
  ra_flush(mapping, batch, &n, &npages);
}

// Start a new window at start, of size pages, the last async ones not
// asked for yet.
static void
ra_window(struct address_space *mapping, pgoff_t start, unsigned long size,
          unsigned long async)
{
  struct file_ra_state *ra = &mapping->ra;

  ra->start = start;
  ra->size = size;
  ra->async_size = async;
  ra_submit(mapping, start, size, start + size - async);
}

/**
 * page_cache_sync_ra - a read missed the page cache
 * @mapping: the file's mapping
 * @index: the page that is not cached
 * @req: how many pages from index the read asks for (at least 1)
 *
 * Reads the pages asked for and, for a sequential reader, a window
 * ahead of them.  Does not wait.
 */
void
page_cache_sync_ra(struct address_space *mapping, pgoff_t index, unsigned long req)
{
  struct file_ra_state *ra = &mapping->ra;
  pgoff_t prev = ra->prev_index;

  req = MAX(req, 1);
  ra->prev_index = index + req - 1;
  if (index == 0 || index == prev + 1 || index == prev ||
      (ra->size && index == ra->start + ra->size)) {
    req = MIN(req, RA_MAX);
    unsigned long ahead = MIN(MAX(req, RA_INIT), RA_MAX);
    ra_window(mapping, index, req + ahead, ahead);
    return;
  }
  // Random: only what was asked for.
  ra_submit(mapping, index, MIN(req, RA_MAX), ~0UL);
}

/**
 * page_cache_async_ra - a reader reached a folio marked PG_readahead
 * @mapping: the file's mapping
 * @folio: that folio (its mark already cleared by the caller)
 * @index: the page of it the reader wants
 * @req: how many pages from index the read asks for
 *
 * The reader is sequential and is about to use the rest of the window:
 * read the next window, twice as large, before it gets there.
 */
void
page_cache_async_ra(struct address_space *mapping, struct folio *folio, pgoff_t index,
                    unsigned long req)
{
  struct file_ra_state *ra = &mapping->ra;
  pgoff_t mark = ra->start + ra->size - ra->async_size;

  ra->prev_index = index + MAX(req, 1) - 1;
  if (mark < folio->index || mark >= folio->index + folio_nr_pages(folio)) {
    // Not the marker of the current window (another reader moved it):
    // start over from here, as a sequential reader would.
    ra->start = index;
    ra->size = ra->async_size = 0;
  }
  unsigned long size = MIN(MAX(ra->size * 2, RA_INIT), RA_MAX);
  ra_window(mapping, ra->start + ra->size, size, size);
}
