// The writeback iterator: which dirty folios of a file to write, in what
// order, and when to stop.
//
// A file system's ->writepages walks a mapping like this:
//
//     struct folio *folio = 0;
//     int error;
//     while ((folio = writeback_iter(mapping, wbc, folio, &error)))
//         error = <write this locked folio, unlocking it>;
//     return error;
//
// Everything about *which* folios that loop sees is decided here, and each
// decision guards a promise:
//
//  - Data integrity.  fsync(2) must put on the disk every byte that was
//    dirty when it was called.  A folio already under writeback may have
//    been redirtied after that write started, so for WB_SYNC_ALL the
//    iterator waits for the write to finish and hands the folio out again;
//    for memory-cleaning writeback (WB_SYNC_NONE) it just skips it.
//  - No livelock.  A process that keeps dirtying folios must not keep
//    fsync busy forever.  So an integrity pass first tags every folio
//    dirty at that moment TOWRITE and then writes only tagged folios.
//    Only the one who clears DIRTY (and starts the write) clears TOWRITE,
//    so a tagged folio is never missed.
//  - No deadlock.  Folios are locked in ascending index order, and one
//    call never wraps around to the start of the file.
//
// This file holds only the iterator and its helpers; students write it in
// the writeback lab (labs/writeback.md).
#include "types.h"
#include "riscv.h"
#include "lib/lib.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/writeback.h"

/**
 * tag_pages_for_writeback - tag the dirty folios of a range TOWRITE
 * @mapping: the address space to tag
 * @start: first page index of the range
 * @end: last page index of the range (inclusive)
 *
 * Every folio in [@start, @end] that carries the DIRTY mark gets the
 * TOWRITE mark as well.  An integrity writeback then writes exactly the
 * TOWRITE folios: those dirty when it began.  Folios dirtied later carry
 * only DIRTY and are left for the next writeback, which is what keeps a
 * busy writer from holding fsync up forever.  The walk visits only dirty
 * folios (the xarray skips clean subtrees), so it is quick.
 */
void
tag_pages_for_writeback(struct address_space *mapping, pgoff_t start, pgoff_t end)
{
// LAB(writeback) BEGIN tag_pages_for_writeback
#ifndef LAB_STARTER
  unsigned long index = start;
  struct folio *folio;
  int batch = 0;

  acquire(&mapping->i_pages_lock);
  while (index <= end &&
         (folio = xa_find(&mapping->i_pages, &index, end, PAGECACHE_TAG_DIRTY))) {
    xa_set_mark(&mapping->i_pages, index, PAGECACHE_TAG_TOWRITE);
    // On past the folio: a large one covers many indexes.
    index = folio->index + folio_nr_pages(folio);
    if (index - 1 >= end)
      break;
    // The lock keeps interrupts off; let them in now and then.
    if (++batch % 512 == 0) {
      release(&mapping->i_pages_lock);
      acquire(&mapping->i_pages_lock);
    }
  }
  release(&mapping->i_pages_lock);
#else
  // Step 3 of labs/writeback.md: set the TOWRITE mark on every folio of
  // [start, end] that has the DIRTY mark.
#endif
// LAB(writeback) END
}

// LAB(writeback) BEGIN helpers
#ifndef LAB_STARTER
/*
 * folio_prepare_for_writeback - decide, with the folio locked, whether it
 * is still ours to write.  Between finding the folio and locking it,
 * anything can have happened: a truncate can have removed it, another
 * writeback can have cleaned it, a write can be in flight.  Returns true
 * with DIRTY cleared (the caller then owns the write), or false to skip it.
 */
static bool
folio_prepare_for_writeback(struct address_space *mapping,
                            struct writeback_control *wbc, struct folio *folio)
{
  // Truncated while we waited for the lock: no longer part of this file.
  if (folio->mapping != mapping)
    return false;
  // Someone else wrote it in the meantime.
  if (!folio_test_dirty(folio))
    return false;
  if (folio_test_writeback(folio)) {
    // Memory cleaning can come back later; integrity writeback cannot:
    // the folio was redirtied after that write started, so the data on
    // its way to the disk may be older than what fsync must save.
    if (wbc->sync_mode == WB_SYNC_NONE)
      return false;
    folio_wait_writeback(folio);
  }
  return folio_clear_dirty_for_io(folio);
}

/*
 * writeback_get_folio - the next folio to write, locked and referenced,
 * or NULL when the range holds no more.  Moves wbc->index past it.
 */
static struct folio *
writeback_get_folio(struct address_space *mapping, struct writeback_control *wbc)
{
  xa_mark_t tag = (wbc->sync_mode == WB_SYNC_ALL || wbc->tagged_writepages)
                  ? PAGECACHE_TAG_TOWRITE : PAGECACHE_TAG_DIRTY;

  for (;;) {
    struct folio *folio = filemap_get_folio_tag(mapping, &wbc->index, wbc_end(wbc), tag);
    if (folio == 0)
      return 0;
    folio_lock(folio);
    if (folio_prepare_for_writeback(mapping, wbc, folio))
      return folio;
    folio_unlock(folio);
    folio_put(folio);
  }
}
#else
// Your helper functions, if you want any, go here.
#endif
// LAB(writeback) END

/**
 * writeback_iter - iterate over the folios of a mapping to write back
 * @mapping: the address space to write
 * @wbc: what to write, and the iteration's state
 * @folio: the folio returned by the previous call, or NULL to start
 * @error: in/out: the result of writing the previous folio
 *
 * Returns the next folio to write, locked, with DIRTY cleared; the caller
 * writes it (starting writeback and unlocking it), stores the result in
 * *@error, and calls again with the same folio.  Returns NULL when the
 * writeback that @wbc describes is done; *@error is then the error to
 * report.  Never stop calling before NULL: the iterator has state to
 * settle (the folio's reference, mapping->writeback_index).
 *
 * WB_SYNC_ALL (data integrity): tags the range TOWRITE at the start and
 * writes every tagged folio, waiting for any write already in flight;
 * goes on past errors and returns the first one; ignores nr_to_write.
 * WB_SYNC_NONE: skips folios under writeback; stops at the first error
 * or when nr_to_write reaches zero.
 *
 * range_cyclic starts at mapping->writeback_index, where the last cyclic
 * writeback stopped, and goes to the end of the file: it never wraps back
 * to index 0 within one call, because folios must be locked in ascending
 * order.  It leaves writeback_index where it stopped, or at 0 if it
 * reached the end.
 */
struct folio *
writeback_iter(struct address_space *mapping, struct writeback_control *wbc,
               struct folio *folio, int *error)
{
// LAB(writeback) BEGIN writeback_iter
#ifndef LAB_STARTER
  if (folio == 0) {
    // The first call: set up.
    wbc->saved_err = *error = 0;
    if (wbc->range_cyclic)
      wbc->index = mapping->writeback_index;
    else
      wbc->index = wbc->range_start >> PGSHIFT;
    if (wbc->sync_mode == WB_SYNC_ALL || wbc->tagged_writepages)
      tag_pages_for_writeback(mapping, wbc->index, wbc_end(wbc));
  } else {
    // The caller has written folio; account for it.
    pgoff_t next = folio->index + folio_nr_pages(folio);
    wbc->nr_to_write -= folio_nr_pages(folio);
    folio_put(folio);
    if (wbc->sync_mode == WB_SYNC_ALL) {
      // Integrity: keep going, but remember the first error.
      if (*error && !wbc->saved_err)
        wbc->saved_err = *error;
    } else if (*error || wbc->nr_to_write <= 0) {
      // Memory cleaning: an error or a finished quota ends the pass.
      // The next cyclic pass resumes right after this folio.
      if (wbc->range_cyclic)
        mapping->writeback_index = next;
      return 0;
    }
  }

  folio = writeback_get_folio(mapping, wbc);
  if (folio == 0) {
    // The end of the range.  A cyclic pass starts over at 0 next time
    // (but not now: see the ordering rule above).
    if (wbc->range_cyclic)
      mapping->writeback_index = 0;
    *error = wbc->saved_err;
  }
  return folio;
#else
  // A naive iterator, so that the kernel works while you write the real
  // one (labs/writeback.md): it hands out every folio marked DIRTY, from
  // index 0 to the end, skipping those under writeback.  It ignores the
  // range, nr_to_write, cyclic writeback and errors, and never tags.
  pgoff_t index = folio ? folio->index + folio_nr_pages(folio) : 0;

  if (folio)
    folio_put(folio);
  while ((folio = filemap_get_folio_tag(mapping, &index, (pgoff_t)-1, PAGECACHE_TAG_DIRTY))) {
    folio_lock(folio);
    if (folio->mapping == mapping && !folio_test_writeback(folio)) {
      folio_clear_dirty_for_io(folio);
      return folio;
    }
    folio_unlock(folio);
    folio_put(folio);
  }
  *error = 0;
  return 0;
#endif
// LAB(writeback) END
}

/**
 * write_cache_pages - write a mapping's dirty folios with a callback
 * @mapping: the address space to write
 * @wbc: what to write; nr_to_write is decremented per folio written
 * @writepage: called for each folio, locked; it must unlock it, or
 *             return AOP_WRITEPAGE_ACTIVATE to have it unlocked here
 * @data: passed to @writepage
 *
 * The older interface, kept as a wrapper around writeback_iter().
 * Return: 0, or the error to report (as writeback_iter() decides).
 */
int
write_cache_pages(struct address_space *mapping, struct writeback_control *wbc,
                  writepage_t writepage, void *data)
{
// LAB(writeback) BEGIN write_cache_pages
#ifndef LAB_STARTER
  struct folio *folio = 0;
  int error = 0;

  while ((folio = writeback_iter(mapping, wbc, folio, &error))) {
    error = writepage(folio, wbc, data);
    if (error == AOP_WRITEPAGE_ACTIVATE) {
      folio_unlock(folio);
      error = 0;
    }
  }
  return error;
#else
  // Step 6 of labs/writeback.md: handle AOP_WRITEPAGE_ACTIVATE.
  struct folio *folio = 0;
  int error = 0;

  while ((folio = writeback_iter(mapping, wbc, folio, &error)))
    error = writepage(folio, wbc, data);
  return error;
#endif
// LAB(writeback) END
}
