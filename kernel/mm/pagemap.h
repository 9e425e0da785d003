// The page cache of a file: struct address_space, and the functions that
// find, add and remove its folios and move data through them.
#ifndef QUIRE_PAGEMAP_H
#define QUIRE_PAGEMAP_H

#include "types.h"
#include "lib/spinlock.h"
#include "lib/errseq.h"
#include "mm/xarray.h"
#include "mm/folio.h"

struct inode;
struct file;
struct folio;
struct address_space;
struct writeback_control;

// What the file system provides to the page cache.
struct address_space_operations {
  // Fill a locked, not uptodate folio from the disk.  Unlocks it when
  // done (possibly later, from the disk interrupt); on success it is then
  // uptodate.  Returns 0 or -errno.
  int (*read_folio)(struct file *file, struct folio *folio);
  // Write the mapping's dirty folios as wbc asks (see writeback.h).
  int (*writepages)(struct address_space *mapping, struct writeback_control *wbc);
  // Mark a folio dirty.  Returns true if it was clean before.
  bool (*dirty_folio)(struct address_space *mapping, struct folio *folio);
  // A write(2) is about to copy data into the locked, uptodate (or about
  // to be overwritten) folio: make sure the data will have a place on the
  // disk.  Returns 0 or -errno (-ENOSPC).
  int (*write_begin)(struct address_space *mapping, struct folio *folio);
  // The locked folio is leaving the cache (truncate, reclaim): drop
  // whatever the file system keeps for it.
  void (*invalidate_folio)(struct folio *folio);
  // Start reading nr locked, not uptodate folios of consecutive indexes,
  // all in the cache, BLK_MAXSEG (64) pages at most (readahead.c).  Each
  // is unlocked when its read is done, uptodate unless the read failed.
  // Optional: without it each folio goes through ->read_folio.
  void (*readahead)(struct address_space *mapping, struct folio **folios, int nr);
};

// The readahead state of a file (readahead.c): the window last read
// ahead, [start, start + size), of which the last async_size folios had
// not been asked for when it was read (the first of them carries
// PG_readahead); and the last index a reader asked for.  Linux keeps one
// per open file; Quire keeps one per file, in its address_space.
struct file_ra_state {
  pgoff_t start;
  unsigned long size;
  unsigned long async_size;
  pgoff_t prev_index;
};

// The page cache of one inode.  Its folios live in i_pages, keyed by page
// index, with the marks DIRTY, WRITEBACK and TOWRITE; a large folio is
// one multi-index entry (xarray.h) covering its pages, with one set of
// marks.  i_pages_lock guards
// the tree and nrpages; each folio's contents are guarded by its own lock.
struct address_space {
  struct inode *host;
  struct xarray i_pages;
  struct spinlock i_pages_lock;
  uint64 nrpages;                // pages in i_pages (in folios of any size)
  pgoff_t writeback_index;       // where the next cyclic writeback starts
  const struct address_space_operations *a_ops;
  errseq_t wb_err;               // the last writeback error (errseq.h)
  uint64 pages_written;          // folios of this file written, ever
  struct list_head i_mmap;       // mmap regions of this file (mmap.c)
  struct file_ra_state ra;       // readahead (readahead.c)
};

// The xarray marks, with Linux's names.
#define PAGECACHE_TAG_DIRTY     XA_MARK_0
#define PAGECACHE_TAG_WRITEBACK XA_MARK_1
#define PAGECACHE_TAG_TOWRITE   XA_MARK_2


void address_space_init(struct address_space *mapping, struct inode *host,
                        const struct address_space_operations *a_ops);
void pagecache_init(void);

// filemap.c
uint32 mapping_ino(struct address_space *mapping);
void trace_folio(int type, struct folio *folio);
struct folio *filemap_get_folio(struct address_space *mapping, pgoff_t index);
struct folio *filemap_get_folio_tag(struct address_space *mapping, pgoff_t *start,
                                    pgoff_t end, xa_mark_t tag);
int filemap_fit_order(struct address_space *mapping, pgoff_t index, int order);
struct folio *filemap_grab_folio(struct address_space *mapping, pgoff_t index, int order,
                                 int *err);
struct folio *filemap_read_folio(struct file *file, struct address_space *mapping,
                                 pgoff_t index, int *err);
int filemap_add_folio(struct address_space *mapping, struct folio *folio, pgoff_t index);
void filemap_remove_folio(struct folio *folio);
void __filemap_remove_folio(struct folio *folio);
int64 filemap_read(struct inode *ip, int user_dst, uint64 dst, uint64 off, uint64 n);
int64 filemap_write(struct inode *ip, int user_src, uint64 src, uint64 off, uint64 n);
int filemap_fdatawrite_range(struct address_space *mapping, loff_t start, loff_t end, int sync_mode);
int filemap_fdatawait_range(struct address_space *mapping, loff_t start, loff_t end);
int filemap_write_and_wait_range(struct address_space *mapping, loff_t start, loff_t end);
int file_write_and_wait_range(struct file *file, loff_t start, loff_t end);
int file_check_and_advance_wb_err(struct file *file);
void mapping_set_error(struct address_space *mapping, int err);
int filemap_check_wb_err(struct address_space *mapping, errseq_t since);

// readahead.c
void page_cache_sync_ra(struct address_space *mapping, pgoff_t index, unsigned long req);
void page_cache_async_ra(struct address_space *mapping, struct folio *folio, pgoff_t index,
                         unsigned long req);

// truncate.c
void truncate_inode_pages_range(struct address_space *mapping, loff_t start, loff_t end);
void truncate_inode_pages(struct address_space *mapping, loff_t start);

#endif
