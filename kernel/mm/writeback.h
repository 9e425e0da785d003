// Writeback: writing dirty page-cache folios to the disk.
//
// struct writeback_control tells ->writepages (and writeback_iter) what to
// write and how, with Linux's fields and meanings.
#ifndef QUIRE_WRITEBACK_H
#define QUIRE_WRITEBACK_H

#include "types.h"
#include "riscv.h"
#include "uapi/wbtrace.h"

struct folio;
struct address_space;

enum writeback_sync_modes {
  WB_SYNC_NONE,   // write what is convenient: skip folios under writeback
  WB_SYNC_ALL,    // data integrity (fsync, sync): wait for folios under
                  // writeback, then write them again if they are dirty
};

struct writeback_control {
  long nr_to_write;        // write at most this many folios; decremented
                           // for each one written (ignored by WB_SYNC_ALL)
  long pages_skipped;      // folios that were not written
  loff_t range_start;      // byte range to write, inclusive; used when
  loff_t range_end;        //   !range_cyclic
  enum writeback_sync_modes sync_mode;

  unsigned for_kupdate:1;      // the flusher's periodic writeback
  unsigned for_background:1;   // the flusher's background writeback
  unsigned tagged_writepages:1;// tag folios first even for WB_SYNC_NONE
  unsigned for_reclaim:1;      // called to free memory
  unsigned range_cyclic:1;     // start at mapping->writeback_index and
                               // ignore range_start/range_end
  unsigned for_sync:1;         // called by sync(2)

  // Private to writeback_iter():
  pgoff_t index;               // the next index to look at
  int saved_err;               // the first error seen (WB_SYNC_ALL)
};

// A file system's per-folio write function for write_cache_pages().
typedef int (*writepage_t)(struct folio *folio, struct writeback_control *wbc, void *data);

// Returned by a writepage_t that leaves the folio locked, to ask the
// caller to unlock it ("activate" it: keep it in memory).
#define AOP_WRITEPAGE_ACTIVATE 0x80000

// The last index of the range wbc asks for.
static inline pgoff_t
wbc_end(struct writeback_control *wbc)
{
  if (wbc->range_cyclic)
    return (pgoff_t)-1;
  return (pgoff_t)(wbc->range_end >> PGSHIFT);
}

// page-writeback.c: the writeback iterator (the lab).
void tag_pages_for_writeback(struct address_space *mapping, pgoff_t start, pgoff_t end);
struct folio *writeback_iter(struct address_space *mapping, struct writeback_control *wbc,
                             struct folio *folio, int *error);
int write_cache_pages(struct address_space *mapping, struct writeback_control *wbc,
                      writepage_t writepage, void *data);

// dirty.c: the dirty and writeback states of folios.
bool filemap_dirty_folio(struct address_space *mapping, struct folio *folio);
bool folio_mark_dirty(struct folio *folio);
bool folio_clear_dirty_for_io(struct folio *folio);
void folio_redirty_for_writepage(struct writeback_control *wbc, struct folio *folio);
void __folio_start_writeback(struct folio *folio, bool keep_write);
#define folio_start_writeback(folio) __folio_start_writeback(folio, false)
#define folio_start_writeback_keepwrite(folio) __folio_start_writeback(folio, true)
void folio_end_writeback(struct folio *folio);
int do_writepages(struct address_space *mapping, struct writeback_control *wbc);

// throttle.c: dirty limits, in pages, and throttling of writers.
uint64 dirty_thresh(void);
uint64 dirty_background_thresh(void);
void balance_dirty_pages_ratelimited(struct address_space *mapping);
void dirty_throttle_wake(void);
extern uint64 nr_throttled;

// The writeback hooks: the file system's flusher (fs/fs-writeback.c),
// which the page cache calls when an inode gets its first dirty folio and
// when dirty pages pile up.  Besides the address_space operations, these
// are the page cache's only calls up into the file system.
struct inode;
void mark_inode_dirty_pages(struct inode *ip);
void wakeup_flusher(int reason);
#define WB_REASON_BACKGROUND 0x1   // past the background threshold
#define WB_REASON_RECLAIM    0x2   // memory is short: write so pages can go

// The mode bits of a writeback, as trace events record them.
static inline int
wbc_trace_mode(struct writeback_control *wbc)
{
  return (wbc->sync_mode == WB_SYNC_ALL ? WBTRACE_SYNC_ALL : 0) |
         (wbc->for_kupdate ? WBTRACE_KUPDATE : 0) |
         (wbc->for_background ? WBTRACE_BACKGROUND : 0) |
         (wbc->for_reclaim ? WBTRACE_RECLAIM : 0) |
         (wbc->for_sync ? WBTRACE_SYNC : 0) |
         (wbc->range_cyclic ? WBTRACE_CYCLIC : 0);
}

#endif
