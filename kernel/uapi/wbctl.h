// wbctl(2): run one writeback of an open file with a writeback_control the
// caller chooses, and report what the writeback iterator did.  For the
// tests of the writeback lab, and for students who want to see their
// writeback_iter() at work.
//
//   wbctl(fd, &c)
//
// With c.test_writepage = 0 the file system's own ->writepages runs: the
// folios really go to the disk.  With c.test_writepage = 1 the kernel calls
// write_cache_pages() with a test writepage function instead: it records
// each folio it is handed, puts it under writeback and ends that writeback
// at once without writing anything (the data stays only in memory, so use
// this on scratch files), and fails or misbehaves on the indices asked for.
#ifndef QUIRE_UAPI_WBCTL_H
#define QUIRE_UAPI_WBCTL_H

#include <stdint.h>

#define WBCTL_MAXFAIL  4
#define WBCTL_MAXVISIT 512

struct wbctl {
  // In: the writeback_control.
  int32_t sync_mode;            // 0 WB_SYNC_NONE, 1 WB_SYNC_ALL
  int32_t range_cyclic;
  int32_t tagged_writepages;
  int32_t test_writepage;       // 1: write_cache_pages with the test writepage
  int64_t nr_to_write;
  int64_t range_start, range_end;   // bytes, inclusive (when not cyclic)
  int64_t writeback_index;      // >= 0: set mapping->writeback_index first
  // In, for the test writepage only (-1: unused):
  int64_t fail_index[WBCTL_MAXFAIL];  // return -EIO for these folios
  int64_t activate_index;       // return AOP_WRITEPAGE_ACTIVATE, folio locked
  int64_t clean_ahead;          // when handed index i, quietly clean folio
                                // i + clean_ahead as if someone else had
                                // written it (its TOWRITE mark stays)
  int64_t dirty_ahead;          // when handed index i, dirty folio
                                // i + dirty_ahead, as a concurrent writer
  // Out:
  int64_t ret;                  // what the writeback returned
  int64_t nr_to_write_left;     // wbc.nr_to_write afterwards
  int64_t pages_skipped;
  int64_t writeback_index_after;
  int64_t left_locked;          // folios the iteration left locked (bug)
  int64_t nvisited;             // folios handed to writepage
  int64_t visited[WBCTL_MAXVISIT];    // their indices, in order
};

#endif
