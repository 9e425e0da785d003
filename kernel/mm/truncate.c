// Removing folios from the page cache when a file shrinks or goes away.
//
// The range to drop is in bytes.  Folios wholly inside it leave the
// cache.  A folio the range cuts (it holds the range's first byte but
// does not start with it, or its last byte but does not end with it)
// stays, with the part inside the range zeroed; a large one is also
// split, so that its pages wholly inside the range can leave like any
// other.  If it cannot be split (someone else holds a reference), Linux's
// answer is taken: a clean folio leaves whole (the disk has its data, to
// be read again when needed), and a dirty one stays whole, zeroed, and
// writeback writes only its pages inside the file (fs/aops.c).
#include "types.h"
#include "riscv.h"
#include "lib/lib.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/vmstat.h"
#include "mm/writeback.h"
#include "mm/rmap.h"
#include "mm/split.h"

// Forget that a locked folio is dirty: its data is going away with it.
static void
folio_cancel_dirty(struct address_space *mapping, struct folio *folio)
{
  if (folio_test_clear_flag(folio, PG_dirty)) {
    acquire(&mapping->i_pages_lock);
    xa_clear_mark(&mapping->i_pages, folio->index, PAGECACHE_TAG_DIRTY);
    xa_clear_mark(&mapping->i_pages, folio->index, PAGECACHE_TAG_TOWRITE);
    release(&mapping->i_pages_lock);
    mod_node_page_state(NR_FILE_DIRTY, -folio_nr_pages(folio));
  }
}

// Remove one locked folio for good: wait for its write to finish, drop
// its dirty state and the file system's bookkeeping, unmap it from user
// address spaces, take it out of the cache.
static void
truncate_folio(struct address_space *mapping, struct folio *folio)
{
  folio_wait_writeback(folio);
  folio_cancel_dirty(mapping, folio);
  if (folio->mapcount > 0)
    folio_unmap_all(folio);
  if (mapping->a_ops->invalidate_folio)
    mapping->a_ops->invalidate_folio(folio);
  filemap_remove_folio(folio);
}

// Zero the bytes of an uptodate, locked folio that lie in [lstart, lend]
// (lend < 0: to the end).  The zeros must reach the disk if a page they
// fall in has a block there or will get one; over a hole they are what
// the disk shows anyway.  Dirtying needs every page of the folio to have
// a place on the disk (->write_begin sees to it).
static void
zero_in_range(struct address_space *mapping, struct folio *folio, loff_t lstart, loff_t lend)
{
  uint64 fpos = folio_pos(folio), fend = fpos + folio_size(folio) - 1;
  uint64 from = MAX((uint64)lstart, fpos) - fpos;
  uint64 to = (lend < 0 ? fend : MIN((uint64)lend, fend)) - fpos;
  int on_disk = folio_test_dirty(folio);

  memset((char *)folio_address(folio) + from, 0, to - from + 1);
  for (uint64 j = from / PGSIZE; j <= to / PGSIZE; j++)
    on_disk |= folio_page_test(folio, j, PG_mappedtodisk) || folio_page_test(folio, j, PG_delalloc);
  if (on_disk && mapping->a_ops->write_begin(mapping, folio) == 0)
    folio_mark_dirty(folio);
}

// The folio that holds byte at, if [lstart, lend] cuts it: a large one is
// split, and the page that holds at is looked at again on its own; a
// single page (or a large folio that could not be split) has the part
// inside the range zeroed.  A large folio left whole and clean leaves the
// cache (the disk has its data).
static void
truncate_partial(struct address_space *mapping, loff_t at, loff_t lstart, loff_t lend)
{
  for (;;) {
    struct folio *folio = filemap_get_folio(mapping, at / PGSIZE);
    if (folio == 0)
      return;
    folio_lock(folio);
    uint64 fpos = folio_pos(folio), fend = fpos + folio_size(folio) - 1;
    int split = 0;
    if (folio->mapping == mapping && ((uint64)lstart > fpos || (lend >= 0 && (uint64)lend < fend))) {
      folio_wait_writeback(folio);
      split = folio_test_large(folio) && split_folio(folio) == 0;
      if (!split && folio_test_uptodate(folio))
        zero_in_range(mapping, folio, lstart, lend);
      if (!split && folio_test_large(folio) && !folio_test_dirty(folio))
        truncate_folio(mapping, folio);
    }
    folio_unlock(folio);
    folio_put(folio);
    if (!split)
      return;
  }
}

/**
 * truncate_inode_pages_range - drop a byte range from the page cache
 * @mapping: the address space
 * @lstart: first byte to drop
 * @lend: last byte to drop (inclusive), or -1 for the end of the file
 *
 * Whole folios in the range leave the cache.  A folio the range cuts
 * keeps its bytes outside the range, and the part inside is zeroed (and
 * the folio marked dirty, so the zeros reach the disk); a large one is
 * split, and its pages wholly inside the range leave too.  This is the
 * page cache's side of truncate (to the end) and of punching a hole (a
 * range inside the file).  Waits for writeback of every folio it
 * removes, so no write to a freed block can be in flight after.
 */
void
truncate_inode_pages_range(struct address_space *mapping, loff_t lstart, loff_t lend)
{
  pgoff_t index = (lstart + PGSIZE - 1) / PGSIZE;   // the first page wholly inside
  pgoff_t end = lend < 0 ? (pgoff_t)-1 : (pgoff_t)(lend + 1) / PGSIZE;   // one past the last
  struct folio *folio;

  truncate_partial(mapping, lstart, lstart, lend);
  if (lend >= 0)
    truncate_partial(mapping, lend, lstart, lend);
  if (index >= end)
    return;
  pgoff_t last = lend < 0 ? (pgoff_t)-1 : end - 1;
  while ((folio = filemap_get_folio_tag(mapping, &index, last, XA_PRESENT))) {
    folio_lock(folio);
    // A large folio that reaches outside could not be split: it stays.
    if (folio->mapping == mapping && folio->index >= (pgoff_t)(lstart + PGSIZE - 1) / PGSIZE &&
        folio->index + folio_nr_pages(folio) - 1 <= last)
      truncate_folio(mapping, folio);
    folio_unlock(folio);
    folio_put(folio);
  }
}

void
truncate_inode_pages(struct address_space *mapping, loff_t lstart)
{
  truncate_inode_pages_range(mapping, lstart, -1);
}
