// The dirty and writeback states of folios, and the marks that mirror
// them in the mapping's xarray.
//
//            write(2), or a store through mmap
//   clean  -----------------------------------> dirty   (DIRTY mark)
//     ^                                           |
//     |  folio_end_writeback                      | folio_clear_dirty_for_io,
//     |  (disk interrupt)                         | folio_start_writeback
//     +------------- under writeback <------------+  (WRITEBACK mark)
//
// A folio under writeback can be dirtied again; it is then both dirty
// and under writeback, and must be written once more (writeback_iter
// knows).  The flags live in the folio; the marks live in the xarray so
// that writeback can find dirty folios without looking at clean ones.
#include "types.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/vmstat.h"
#include "mm/writeback.h"
#include "mm/rmap.h"
#include "lib/trace.h"
#include "fs/fs.h"
#include "proc/proc.h"

/**
 * filemap_dirty_folio - mark a page-cache folio dirty (->dirty_folio)
 * @mapping: the folio's mapping
 * @folio: the folio; locked, or otherwise kept from being truncated
 *
 * Sets PG_dirty and the DIRTY mark, counts its pages as dirty, and puts
 * the inode on the flusher's list of dirty inodes if it was clean.
 * Return: true if the folio was clean before.
 */
bool
filemap_dirty_folio(struct address_space *mapping, struct folio *folio)
{
  if (folio_test_set_flag(folio, PG_dirty))
    return false;
  acquire(&mapping->i_pages_lock);
  if (folio->mapping == mapping)
    xa_set_mark(&mapping->i_pages, folio->index, PAGECACHE_TAG_DIRTY);
  release(&mapping->i_pages_lock);
  mod_node_page_state(NR_FILE_DIRTY, folio_nr_pages(folio));
  mod_node_page_state(NR_DIRTIED, folio_nr_pages(folio));
  trace_folio(TR_DIRTY, folio);
  mark_inode_dirty_pages(mapping->host);
  return true;
}

/**
 * folio_mark_dirty - mark a folio dirty through its mapping's ->dirty_folio
 * @folio: the folio
 * Return: true if it was clean before.
 */
bool
folio_mark_dirty(struct folio *folio)
{
  struct address_space *mapping = folio->mapping;

  if (mapping)
    return mapping->a_ops->dirty_folio(mapping, folio);
  return !folio_test_set_flag(folio, PG_dirty);
}

/**
 * folio_clear_dirty_for_io - clear the dirty state before writing a folio
 * @folio: the folio, locked
 *
 * Called just before the folio's contents are sent to the disk.  Any user
 * mapping of the folio is made read-only first, so that a store made
 * after this point faults and dirties the folio again instead of changing
 * the page silently while (or after) it is written.
 * Return: true if the folio was dirty, so the caller must write it.
 */
bool
folio_clear_dirty_for_io(struct folio *folio)
{
  struct address_space *mapping = folio->mapping;

  if (!folio_test_locked(folio))
    panic("folio_clear_dirty_for_io: folio not locked");
  if (folio->mapcount > 0)
    folio_mkclean(folio);
  if (!folio_test_clear_flag(folio, PG_dirty))
    return false;
  if (mapping) {
    acquire(&mapping->i_pages_lock);
    xa_clear_mark(&mapping->i_pages, folio->index, PAGECACHE_TAG_DIRTY);
    release(&mapping->i_pages_lock);
  }
  mod_node_page_state(NR_FILE_DIRTY, -folio_nr_pages(folio));
  return true;
}

/**
 * folio_redirty_for_writepage - give a folio back its dirty state
 * @wbc: the writeback that decided not to write it
 * @folio: the folio, locked, whose dirty state was cleared for I/O
 *
 * For a ->writepages that took a folio from writeback_iter() but cannot
 * write it now: the folio must stay dirty so a later writeback gets it.
 */
void
folio_redirty_for_writepage(struct writeback_control *wbc, struct folio *folio)
{
  wbc->pages_skipped += folio_nr_pages(folio);
  folio_mark_dirty(folio);
}

/**
 * __folio_start_writeback - the folio's contents are on their way to disk
 * @folio: the folio, locked, with its dirty state cleared for I/O
 * @keep_write: leave the TOWRITE mark on (for a write that will have to
 *              be repeated within the same integrity pass)
 *
 * Sets PG_writeback and the WRITEBACK mark, and clears TOWRITE: the folio
 * no longer needs writing for the integrity pass that tagged it.  The
 * folio is then unlocked by the caller and stays under writeback until
 * folio_end_writeback().  Use folio_start_writeback().
 */
void
__folio_start_writeback(struct folio *folio, bool keep_write)
{
  struct address_space *mapping = folio->mapping;

  if (folio_test_set_flag(folio, PG_writeback))
    panic("folio_start_writeback: already under writeback");
  if (mapping) {
    acquire(&mapping->i_pages_lock);
    xa_set_mark(&mapping->i_pages, folio->index, PAGECACHE_TAG_WRITEBACK);
    if (!keep_write)
      xa_clear_mark(&mapping->i_pages, folio->index, PAGECACHE_TAG_TOWRITE);
    mapping->pages_written += folio_nr_pages(folio);
    release(&mapping->i_pages_lock);
  }
  mod_node_page_state(NR_WRITEBACK, folio_nr_pages(folio));
  mod_node_page_state(NR_WRITTEN, folio_nr_pages(folio));
  struct proc *p = myproc();
  if (p)
    p->wb_written += folio_nr_pages(folio);
  trace_folio(TR_WB_START, folio);
}

/**
 * folio_end_writeback - the disk has finished writing the folio
 * @folio: the folio
 *
 * Called from the disk's completion (interrupt context).  Clears
 * PG_writeback and the WRITEBACK mark and wakes those waiting for it.
 * A write error is recorded by the caller beforehand, with
 * mapping_set_error(), and the folio is then left clean: the data is not
 * retried, the error is reported to fsync instead.
 */
void
folio_end_writeback(struct folio *folio)
{
  struct address_space *mapping = folio->mapping;

  if (mapping) {
    acquire(&mapping->i_pages_lock);
    xa_clear_mark(&mapping->i_pages, folio->index, PAGECACHE_TAG_WRITEBACK);
    if (!folio_test_clear_flag(folio, PG_writeback))
      panic("folio_end_writeback: not under writeback");
    release(&mapping->i_pages_lock);
  } else if (!folio_test_clear_flag(folio, PG_writeback)) {
    panic("folio_end_writeback: not under writeback");
  }
  mod_node_page_state(NR_WRITEBACK, -folio_nr_pages(folio));
  trace_folio(TR_WB_END, folio);
  folio_wake(folio);
  dirty_throttle_wake();
}

/*
 * Count the pages a writeback tagged TOWRITE, for the trace and for the
 * calling process (wbstat's self_tagged, which the livelock tests hold
 * against self_written, also in pages).  The xarray counts the indices
 * of every mark it sets, so the difference across the call is what the
 * call tagged; a second tagger working on the same file at the same
 * moment would be counted too.
 */
static void
report_tagged(struct address_space *mapping, pgoff_t first, unsigned long before)
{
  unsigned long n = __atomic_load_n(&mapping->i_pages.marks_set[PAGECACHE_TAG_TOWRITE],
                                    __ATOMIC_RELAXED) - before;
  struct proc *p = myproc();

  if (n == 0)
    return;
  if (p)
    p->wb_tagged += n;
  trace_event(TR_TOWRITE, mapping_ino(mapping), first, n, 0);
}

/**
 * do_writepages - write a mapping's dirty folios
 * @mapping: the address space
 * @wbc: what to write
 * Return: 0 or the error ->writepages reports.
 */
int
do_writepages(struct address_space *mapping, struct writeback_control *wbc)
{
  if (wbc->nr_to_write <= 0 && wbc->sync_mode == WB_SYNC_NONE)
    return 0;
  if (mapping->a_ops == 0 || mapping->a_ops->writepages == 0)
    return 0;
  pgoff_t first = wbc->range_cyclic ? mapping->writeback_index : wbc->range_start >> PGSHIFT;
  unsigned long tagged = __atomic_load_n(&mapping->i_pages.marks_set[PAGECACHE_TAG_TOWRITE],
                                         __ATOMIC_RELAXED);
  int err = mapping->a_ops->writepages(mapping, wbc);
  report_tagged(mapping, first, tagged);
  dirty_throttle_wake();
  return err;
}
