// Page-cache and writeback counters, returned by the wbstat(2) debug call.
//
// wbstat(-1, &st) fills the global part; wbstat(fd, &st) also fills the
// per-file part for the file open on fd.  Counters that say "since boot"
// only ever grow, so a test reads them before and after an operation and
// subtracts.
#ifndef QUIRE_UAPI_WBSTAT_H
#define QUIRE_UAPI_WBSTAT_H

#include <stdint.h>

struct wbstat {
  // Global: the state of the page cache now.
  // Counts of folios are in pages: a large folio of 16 pages counts 16.
  uint64_t nr_cached;        // pages in all page caches
  uint64_t nr_dirty;         // ... of them dirty
  uint64_t nr_writeback;     // ... of them under writeback (I/O in flight)
  uint64_t free_pages;       // free physical pages
  uint64_t total_pages;      // physical pages the allocator manages
  uint64_t free_large;       // free 64 KiB blocks (kalloc.c), for large folios
  // Global: totals since boot.
  uint64_t pages_dirtied;    // pages of folios that went clean -> dirty
  uint64_t pages_written;    // pages of folios whose writeback started
  uint64_t pages_reclaimed;  // pages of clean folios dropped under memory
                             // pressure
  uint64_t disk_reads;       // read requests completed by the disk
  uint64_t disk_writes;      // write requests completed
  uint64_t disk_read_bytes;
  uint64_t disk_write_bytes;
  uint64_t disk_flushes;     // FLUSH requests completed
  uint64_t disk_errors;      // requests that completed with an error
  uint64_t log_commits;      // metadata transactions committed
  uint64_t throttled;        // times a writer slept in balance_dirty_pages
  uint64_t fs_shutdown;      // 1 once a disk error made the file system
                             // read-only (docs/errors.md)
  // Global: the flusher's state now.
  uint64_t dirty_thresh;     // dirty pages at which writers are throttled
  uint64_t background_thresh;// dirty pages at which background writeback starts
  uint64_t nr_b_dirty;       // inodes on b_dirty
  uint64_t nr_b_io;          // ... on b_io
  uint64_t nr_b_more_io;     // ... on b_more_io
  uint64_t oldest_dirty_ms;  // how long the oldest dirty inode has been dirty
  // The calling process, since it started:
  uint64_t self_tagged;      // pages it tagged TOWRITE (fsync, sync, ...)
  uint64_t self_written;     // pages whose writeback it started
  // Per file (only when a file descriptor was given).
  uint64_t f_ino;            // inode number
  uint64_t f_size;           // i_size in bytes
  uint64_t f_nrpages;        // pages of this file in the cache
  uint64_t f_dirty;          // ... in folios marked DIRTY
  uint64_t f_writeback;      // ... in folios marked WRITEBACK
  uint64_t f_towrite;        // ... in folios marked TOWRITE
  uint64_t f_writeback_index; // where the next cyclic writeback starts
  uint64_t f_pages_written;  // pages of this file written since boot
  uint64_t f_disk_blocks;    // blocks allocated on disk
  uint64_t f_wb_err;         // the mapping's errseq_t, raw
  uint64_t f_nrfolios;       // folios of this file in the cache
  uint64_t f_large;          // ... of them large (more than one page)
};

#endif
