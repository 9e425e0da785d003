// The page cache: finding, adding and removing folios, and read(2) and
// write(2) through the cache.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "lib/errseq.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/vmstat.h"
#include "mm/writeback.h"
#include "mm/reclaim.h"
#include "lib/trace.h"
#include "proc/proc.h"
#include "fs/fs.h"
#include "fs/file.h"

int64 vm_node_stat[NR_VM_NODE_STAT_ITEMS];   // see vmstat.h

static struct kmem_cache xa_node_cache;

struct xa_node *
xa_node_alloc(void)
{
  return kmem_cache_alloc(&xa_node_cache);
}

void
xa_node_free(struct xa_node *node)
{
  kmem_cache_free(&xa_node_cache, node);
}

void
pagecache_init(void)
{
  kmem_cache_init(&xa_node_cache, "xa_node", sizeof(struct xa_node));
}

void
address_space_init(struct address_space *mapping, struct inode *host,
                   const struct address_space_operations *a_ops)
{
  mapping->host = host;
  mapping->i_pages.head = 0;
  initlock(&mapping->i_pages_lock, "i_pages");
  mapping->nrpages = 0;
  mapping->writeback_index = 0;
  mapping->a_ops = a_ops;
  mapping->wb_err = 0;
  mapping->pages_written = 0;
  INIT_LIST_HEAD(&mapping->i_mmap);
  memset(&mapping->ra, 0, sizeof(mapping->ra));
}

// The inode number of a mapping's file, for trace events.
uint32
mapping_ino(struct address_space *mapping)
{
  return mapping && mapping->host ? mapping->host->inum : 0;
}

// Report an event of a folio's life to the trace points (lib/trace.h):
// its first index, and its pages as aux.
void
trace_folio(int type, struct folio *folio)
{
  trace_event(type, mapping_ino(folio->mapping), folio->index, folio_nr_pages(folio), 0);
}

/**
 * filemap_get_folio - look up a folio in the page cache
 * @mapping: the address space
 * @index: the page index
 * Return: the folio that holds page @index (a large folio may start
 * before it), with a new reference, or NULL.  Not locked.
 */
struct folio *
filemap_get_folio(struct address_space *mapping, pgoff_t index)
{
  acquire(&mapping->i_pages_lock);
  struct folio *folio = xa_load(&mapping->i_pages, index);
  if (folio)
    folio_get(folio);
  release(&mapping->i_pages_lock);
  return folio;
}

/**
 * filemap_get_folio_tag - the next folio with a mark
 * @mapping: the address space
 * @start: in: the first index to look at; out: one past the folio found
 *         (past its last page)
 * @end: the last index to look at (inclusive)
 * @tag: PAGECACHE_TAG_*, or XA_PRESENT for any folio
 * Return: the folio with a new reference, or NULL.  Not locked.  A large
 * folio that holds page @start is found even though it starts before it.
 */
struct folio *
filemap_get_folio_tag(struct address_space *mapping, pgoff_t *start, pgoff_t end, xa_mark_t tag)
{
  unsigned long index = *start;

  if (index > end)
    return 0;
  acquire(&mapping->i_pages_lock);
  struct folio *folio = xa_find(&mapping->i_pages, &index, end, tag);
  if (folio) {
    folio_get(folio);
    *start = folio->index + folio_nr_pages(folio);   // files end far below the largest index
  }
  release(&mapping->i_pages_lock);
  return folio;
}

/**
 * filemap_add_folio - add a new locked folio to the page cache
 * @mapping: the address space
 * @folio: a locked folio in no cache
 * @index: where it goes: a multiple of the folio's pages
 * Return: 0; -EEXIST if any page of its range is cached already; -ENOMEM.
 * The cache takes its own reference.
 */
int
filemap_add_folio(struct address_space *mapping, struct folio *folio, pgoff_t index)
{
  long n = folio_nr_pages(folio);
  unsigned long at = index;

  if (index % n != 0)
    panic("filemap_add_folio: index %d is not a multiple of %d", (int)index, (int)n);
  acquire(&mapping->i_pages_lock);
  if (xa_find(&mapping->i_pages, &at, index + n - 1, XA_PRESENT)) {
    release(&mapping->i_pages_lock);
    return -EEXIST;
  }
  folio->mapping = mapping;
  folio->index = index;
  if (xa_store_order(&mapping->i_pages, index, folio_order(folio), folio) != 0) {
    folio->mapping = 0;
    release(&mapping->i_pages_lock);
    return -ENOMEM;
  }
  folio_get(folio);
  mapping->nrpages += n;
  release(&mapping->i_pages_lock);
  mod_node_page_state(NR_FILE_PAGES, n);
  lru_add(folio);
  return 0;
}

/**
 * filemap_remove_folio - take a folio out of the page cache
 * @folio: a locked folio, clean and not under writeback
 * Drops the cache's reference.
 */
void
filemap_remove_folio(struct folio *folio)
{
  if (folio_test_dirty(folio) || folio_test_writeback(folio))
    panic("filemap_remove_folio: folio dirty or under writeback");
  __filemap_remove_folio(folio);
  folio_put(folio);
}

/**
 * __filemap_remove_folio - take a locked folio out of its mapping
 * @folio: the folio
 *
 * The folio leaves the xarray and the LRU list and forgets its mapping;
 * the cache's reference goes to the caller.  Whether it may leave (clean,
 * not under writeback) is the caller's business.
 */
void
__filemap_remove_folio(struct folio *folio)
{
  struct address_space *mapping = folio->mapping;

  lru_del(folio);
  acquire(&mapping->i_pages_lock);
  xa_erase(&mapping->i_pages, folio->index);
  folio->mapping = 0;
  mapping->nrpages -= folio_nr_pages(folio);
  release(&mapping->i_pages_lock);
  mod_node_page_state(NR_FILE_PAGES, -folio_nr_pages(folio));
}

/**
 * filemap_fit_order - the largest new folio that fits at an index
 * @mapping: the address space
 * @index: where the folio would start: a multiple of 2^@order
 * @order: the largest order wanted
 * Return: the largest order up to @order whose pages from @index are
 * none of them cached (0 if @index itself is cached).
 */
int
filemap_fit_order(struct address_space *mapping, pgoff_t index, int order)
{
  acquire(&mapping->i_pages_lock);
  while (order > 0) {
    unsigned long at = index;
    if (!xa_find(&mapping->i_pages, &at, index + (1UL << order) - 1, XA_PRESENT))
      break;
    order--;
  }
  release(&mapping->i_pages_lock);
  return order;
}

/**
 * filemap_grab_folio - find or create the folio at an index, locked
 * @mapping: the address space
 * @index: the page index
 * @order: for a new folio, its largest order; @index is then a multiple
 *         of 2^@order, and the folio starts there
 * @err: set to -ENOMEM when no folio can be had
 * Return: the locked folio that holds page @index, with a reference, or
 * NULL.  A folio already cached may be of any size and start before
 * @index; a new one is as large as the cache around @index, and memory,
 * allow (folio_alloc_reclaim()).
 */
struct folio *
filemap_grab_folio(struct address_space *mapping, pgoff_t index, int order, int *err)
{
  for (;;) {
    struct folio *folio = filemap_get_folio(mapping, index);
    if (folio) {
      folio_lock(folio);
      if (folio->mapping == mapping)
        return folio;
      // Truncated or reclaimed while we waited: look again.
      folio_unlock(folio);
      folio_put(folio);
      continue;
    }
    folio = folio_alloc_reclaim(filemap_fit_order(mapping, index, order));
    if (folio == 0) {
      *err = -ENOMEM;
      return 0;
    }
    folio_set_flag(folio, PG_locked);
    int r = filemap_add_folio(mapping, folio, index);
    if (r == 0)
      return folio;
    folio_clear_flag(folio, PG_locked);
    folio_put(folio);
    if (r != -EEXIST) {
      *err = r;
      return 0;
    }
  }
}

/**
 * filemap_read_folio - an uptodate folio at an index, reading it if needed
 * @file: the open file, or NULL
 * @mapping: the address space
 * @index: the page index
 * @err: set to -EIO or -ENOMEM on failure
 * Return: the folio that holds page @index (it may start before it), with
 * a reference, not locked; or NULL.
 */
struct folio *
filemap_read_folio(struct file *file, struct address_space *mapping, pgoff_t index, int *err)
{
  int read_ahead = 0;

  for (;;) {
    struct folio *folio = filemap_get_folio(mapping, index);
    if (folio && folio_test_uptodate(folio)) {
      folio_set_flag(folio, PG_referenced);
      return folio;
    }
    if (folio == 0 && !read_ahead) {
      // Readahead reads it, with whatever comes after it (readahead.c);
      // then wait for it below, or read it here if memory was short.
      page_cache_sync_ra(mapping, index, 1);
      read_ahead = 1;
      continue;
    }
    if (folio)
      folio_lock(folio);
    else if ((folio = filemap_grab_folio(mapping, index, 0, err)) == 0)
      return 0;
    if (folio->mapping != mapping) {
      folio_unlock(folio);
      folio_put(folio);
      continue;
    }
    if (folio_test_uptodate(folio)) {
      folio_unlock(folio);
      return folio;
    }
    mapping->a_ops->read_folio(file, folio);
    folio_wait_locked(folio);
    if (!folio_test_uptodate(folio)) {
      folio_put(folio);
      *err = -EIO;
      return 0;
    }
    return folio;
  }
}

// The uptodate folio that holds page index, for read(2), which wants the
// pages up to last: a cached folio at once (starting the next readahead
// window if it is the current window's marker); else readahead, and wait
// for it.
static struct folio *
read_folio_ra(struct address_space *mapping, pgoff_t index, pgoff_t last, int *err)
{
  struct folio *folio = filemap_get_folio(mapping, index);

  if (folio == 0) {
    page_cache_sync_ra(mapping, index, last - index + 1);
  } else {
    if (folio_test_flag(folio, PG_readahead) && folio_test_clear_flag(folio, PG_readahead))
      page_cache_async_ra(mapping, folio, index, last - index + 1);
    if (folio_test_uptodate(folio)) {
      folio_set_flag(folio, PG_referenced);
      return folio;
    }
    folio_put(folio);
  }
  return filemap_read_folio(0, mapping, index, err);
}

/**
 * filemap_read - read(2) through the page cache
 * @ip: the inode, locked
 * @user_dst: whether dst is a user address
 * @dst: where the bytes go
 * @off: file offset
 * @n: bytes wanted
 * Return: bytes copied (0 at the end of the file), or -errno if none.
 */
int64
filemap_read(struct inode *ip, int user_dst, uint64 dst, uint64 off, uint64 n)
{
  struct address_space *mapping = &ip->i_data;
  uint64 done = 0;
  int err = 0;

  if (off >= ip->size)
    return 0;
  n = MIN(n, ip->size - off);
  pgoff_t last = (off + n - 1) / PGSIZE;
  while (done < n) {
    struct folio *folio = read_folio_ra(mapping, off / PGSIZE, last, &err);
    if (folio == 0)
      break;
    uint64 pos = off - folio_pos(folio);   // a large folio: one copy for all of it
    uint64 m = MIN(n - done, folio_size(folio) - pos);
    int r = either_copyout(user_dst, dst, (char *)folio_address(folio) + pos, m);
    folio_put(folio);
    if (r < 0) {
      err = -EFAULT;
      break;
    }
    done += m;
    off += m;
    dst += m;
  }
  mapping->ra.prev_index = last;
  return done > 0 ? (int64)done : err;
}

// Make folio (locked, not uptodate) ready for a write of len bytes at
// offset pos within it: read it from the disk unless the write covers it
// all or it lies wholly past the end of the file (then it is zeros).
// Returns 0 with the folio still locked, or -EIO.
static int
prepare_partial(struct address_space *mapping, struct folio *folio, uint64 pos, uint64 len)
{
  if (pos == 0 && len == folio_size(folio)) {
    return 0;   // about to be overwritten whole
  }
  if ((uint64)folio_pos(folio) >= mapping->host->size) {
    memset(folio_address(folio), 0, folio_size(folio));
    folio_mark_uptodate(folio);
    return 0;
  }
  mapping->a_ops->read_folio(0, folio);
  folio_lock(folio);
  if (folio->mapping != mapping)
    return -EAGAIN;   // truncated meanwhile: the caller starts over
  return folio_test_uptodate(folio) ? 0 : -EIO;
}

// The order of a new folio for a write of len bytes at off into a file
// of size bytes: the largest folio that starts at off, is aligned to its
// size, and that the write covers whole, so that nothing in it must be
// read first.  Small or unaligned writes get single pages, and so do
// small files (under FOLIO_SMALL_FILE, even once this write is in):
// their few pages gain little from large folios, and the allocator's
// 64 KiB blocks are better kept for big files.
static int
write_order(uint64 off, uint64 len, uint64 size)
{
  int order = FOLIO_MAX_ORDER;

  if (off % PGSIZE || MAX(size, off + len) < FOLIO_SMALL_FILE)
    return 0;
  while (order > 0 && ((off / PGSIZE) % (1UL << order) || len < ((uint64)PGSIZE << order)))
    order--;
  return order;
}

/**
 * filemap_write - write(2) through the page cache
 * @ip: the inode, locked
 * @user_src: whether src is a user address
 * @src: where the bytes come from
 * @off: file offset
 * @n: bytes to write
 *
 * Copies into the cached folios, marks them dirty and moves i_size.
 * Nothing is written to the disk here: writeback does that later, and
 * allocates the blocks then (delayed allocation; ->write_begin reserves
 * the space now, so that ENOSPC comes from write(2), never later).  The
 * work is done a folio at a time: one lookup, one throttling check, one
 * copy and one dirtying for up to 16 pages.
 * Return: bytes written, or -errno if none.
 */
int64
filemap_write(struct inode *ip, int user_src, uint64 src, uint64 off, uint64 n)
{
  struct address_space *mapping = &ip->i_data;
  uint64 done = 0;
  int err = 0;

  while (done < n) {
    // Too much dirty data in memory: wait here until writeback has caught
    // up, before making more.
    balance_dirty_pages_ratelimited(mapping);
    struct folio *folio = filemap_grab_folio(mapping, off / PGSIZE,
                                             write_order(off, n - done, ip->size), &err);
    if (folio == 0)
      break;
    uint64 pos = off - folio_pos(folio);
    uint64 m = MIN(n - done, folio_size(folio) - pos);
    int fresh = !folio_test_uptodate(folio);
    if (fresh && (err = prepare_partial(mapping, folio, pos, m)) != 0) {
      folio_unlock(folio);
      folio_put(folio);
      if (err == -EAGAIN) {
        err = 0;
        continue;
      }
      break;
    }
    if ((err = mapping->a_ops->write_begin(mapping, folio)) != 0) {
      folio_unlock(folio);
      folio_put(folio);
      break;
    }
    // With the folio locked, a fault on the source could deadlock (it may
    // be an mmap of this very folio), so copy without faulting; if the
    // source page is not present, unlock, fault it in, and try again.
    char *dst = (char *)folio_address(folio) + pos;
    int r = user_src ? copyin_nofault(myproc()->pagetable, dst, src, m)
                     : (memmove(dst, (void *)src, m), 0);
    if (r < 0) {
      if (fresh && !folio_test_uptodate(folio))
        memset(folio_address(folio), 0, folio_size(folio));   // don't leave garbage
      folio_unlock(folio);
      folio_put(folio);
      if (fault_in_user(src, m, 0) < 0) {
        err = -EFAULT;
        break;
      }
      continue;
    }
    folio_mark_uptodate(folio);
    // i_size first: once the folio is unlocked, writeback may take it, and
    // it must not find it past the end of the file.
    if (off + m > ip->size)
      __atomic_store_n(&ip->size, off + m, __ATOMIC_SEQ_CST);
    folio_mark_dirty(folio);
    folio_unlock(folio);
    folio_put(folio);
    done += m;
    off += m;
    src += m;
  }
  return done > 0 ? (int64)done : err;
}

/**
 * filemap_fdatawrite_range - start writeback of a byte range
 * @mapping: the address space
 * @start: first byte
 * @end: last byte (inclusive)
 * @sync_mode: WB_SYNC_ALL to write every dirty folio in the range, even
 *             those under writeback now (after waiting for them)
 * Return: 0 or an error from ->writepages.
 */
int
filemap_fdatawrite_range(struct address_space *mapping, loff_t start, loff_t end, int sync_mode)
{
  struct writeback_control wbc = {
    .sync_mode = sync_mode,
    .nr_to_write = LLONG_MAX,
    .range_start = start,
    .range_end = end,
  };

  if (!xa_marked(&mapping->i_pages, PAGECACHE_TAG_DIRTY))
    return 0;
  return do_writepages(mapping, &wbc);
}

/**
 * filemap_fdatawait_range - wait for writeback in a byte range to finish
 * @mapping: the address space
 * @start: first byte
 * @end: last byte (inclusive)
 *
 * Waits for every folio marked WRITEBACK in the range.  Errors are not
 * returned here: they are in mapping->wb_err for each file to see once.
 */
int
filemap_fdatawait_range(struct address_space *mapping, loff_t start, loff_t end)
{
  pgoff_t index = start / PGSIZE, last = end / PGSIZE;
  struct folio *folio;

  while ((folio = filemap_get_folio_tag(mapping, &index, last, PAGECACHE_TAG_WRITEBACK))) {
    folio_wait_writeback(folio);
    folio_put(folio);
  }
  return 0;
}

int
filemap_write_and_wait_range(struct address_space *mapping, loff_t start, loff_t end)
{
  int err = filemap_fdatawrite_range(mapping, start, end, WB_SYNC_ALL);

  filemap_fdatawait_range(mapping, start, end);
  return err;
}

/**
 * mapping_set_error - record a writeback error for the files to see
 * @mapping: the address space whose write failed
 * @err: a negative errno (0 does nothing)
 */
void
mapping_set_error(struct address_space *mapping, int err)
{
  errseq_set(&mapping->wb_err, err);
}

int
filemap_check_wb_err(struct address_space *mapping, errseq_t since)
{
  return errseq_check(&mapping->wb_err, since);
}

/**
 * file_check_and_advance_wb_err - report a writeback error once per file
 * @file: the open file
 * Return: -errno if an error happened since this file last looked, else 0.
 */
int
file_check_and_advance_wb_err(struct file *file)
{
  struct address_space *mapping = &file->ip->i_data;

  acquire(&file->wb_err_lock);
  int err = errseq_check_and_advance(&mapping->wb_err, &file->f_wb_err);
  release(&file->wb_err_lock);
  return err;
}

/**
 * file_write_and_wait_range - the data part of fsync(2)
 * @file: the open file
 * @start: first byte
 * @end: last byte (inclusive)
 *
 * Writes every folio in the range that is dirty now (waiting for writes
 * already in flight, then writing again what was redirtied meanwhile),
 * waits for all of it, and reports a writeback error that this file has
 * not seen yet.
 */
int
file_write_and_wait_range(struct file *file, loff_t start, loff_t end)
{
  struct address_space *mapping = &file->ip->i_data;
  int err = 0;

  if (end < start)
    return 0;
  err = filemap_fdatawrite_range(mapping, start, end, WB_SYNC_ALL);
  filemap_fdatawait_range(mapping, start, end);
  int err2 = file_check_and_advance_wb_err(file);
  return err ? err : err2;
}
