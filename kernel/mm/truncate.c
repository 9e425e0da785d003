// Removing folios from the page cache when a file shrinks or goes away.
#include "types.h"
#include "riscv.h"
#include "lib/lib.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/vmstat.h"
#include "mm/writeback.h"
#include "mm/rmap.h"

// Forget that a locked folio is dirty: its data is going away with it.
static void
folio_cancel_dirty(struct address_space *mapping, struct folio *folio)
{
  if (folio_test_clear_flag(folio, PG_dirty)) {
    acquire(&mapping->i_pages_lock);
    xa_clear_mark(&mapping->i_pages, folio->index, PAGECACHE_TAG_DIRTY);
    xa_clear_mark(&mapping->i_pages, folio->index, PAGECACHE_TAG_TOWRITE);
    release(&mapping->i_pages_lock);
    mod_node_page_state(NR_FILE_DIRTY, -1);
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

/**
 * truncate_inode_pages_range - drop a byte range from the page cache
 * @mapping: the address space
 * @lstart: first byte to drop
 * @lend: last byte to drop (inclusive), or -1 for the end of the file
 *
 * Whole folios in the range leave the cache; if @lstart is inside a folio,
 * the part of it from @lstart on is zeroed instead (and the folio marked
 * dirty, so the zeros reach the disk).  Waits for writeback of every
 * folio it removes, so no write to a freed block can be in flight after.
 */
void
truncate_inode_pages_range(struct address_space *mapping, loff_t lstart, loff_t lend)
{
  pgoff_t index = (lstart + PGSIZE - 1) / PGSIZE;
  pgoff_t last = lend < 0 ? (pgoff_t)-1 : (pgoff_t)lend / PGSIZE;
  struct folio *folio;

  if (lstart % PGSIZE) {
    folio = filemap_get_folio(mapping, lstart / PGSIZE);
    if (folio) {
      folio_lock(folio);
      if (folio->mapping == mapping && folio_test_uptodate(folio)) {
        folio_wait_writeback(folio);
        uint64 pos = lstart % PGSIZE;
        memset((char *)folio_address(folio) + pos, 0, PGSIZE - pos);
        // The zeros must reach the disk if the folio has a block there or
        // will get one; over a hole they are what the disk shows anyway.
        if (folio_test_flag(folio, PG_mappedtodisk) || folio_test_dirty(folio))
          folio_mark_dirty(folio);
      }
      folio_unlock(folio);
      folio_put(folio);
    }
  }
  while ((folio = filemap_get_folio_tag(mapping, &index, last, XA_PRESENT))) {
    folio_lock(folio);
    if (folio->mapping == mapping)
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
