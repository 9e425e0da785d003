// wbctl(2): run one writeback of an open file with a writeback_control the
// caller chooses, and report what the writeback iterator did.  For the
// tests of the writeback lab (user/wbiter.c), and for students who want
// to see their writeback_iter() at work.
//
//   wbctl(fd, &c)
//
// With c.test_writepage = 0 the file system's own ->writepages runs: the
// folios really go to the disk.  With c.test_writepage = 1 the kernel calls
// write_cache_pages() with a test writepage function instead: it records
// each folio it is handed, puts it under writeback and ends that writeback
// at once without writing anything (the data stays only in memory, so use
// this on scratch files), and fails or misbehaves on the indices asked for.
// The test writepage can also stage the races the iterator must survive:
// another writer cleaning or dirtying a folio ahead of it, a folio
// leaving the file while the iterator waits for its lock, a folio still
// under writeback from an earlier pass.
#ifndef QUIRE_UAPI_WBCTL_H
#define QUIRE_UAPI_WBCTL_H

#include <stdint.h>

#define WBCTL_MAXFAIL  4
#define WBCTL_MAXVISIT 1024

struct wbctl {
  // In: the writeback_control.
  int32_t sync_mode;            // 0 WB_SYNC_NONE, 1 WB_SYNC_ALL
  int32_t range_cyclic;
  int32_t tagged_writepages;
  int32_t test_writepage;       // 1: write_cache_pages with the test writepage
  int64_t nr_to_write;
  int64_t range_start, range_end;   // bytes, inclusive (when not cyclic)
  int64_t writeback_index;      // >= 0: set mapping->writeback_index first
  // In, for the test writepage only (-1 or 0: unused):
  int64_t fail_index[WBCTL_MAXFAIL];  // the writes of these folios fail ...
  int64_t fail_errno[WBCTL_MAXFAIL];  // ... with these errors (0: EIO)
  int64_t activate_index;       // return AOP_WRITEPAGE_ACTIVATE, folio locked
  int64_t clean_ahead;          // when handed index i, quietly clean folio
                                // i + clean_ahead as if someone else had
                                // written it (its TOWRITE mark stays)
  int64_t dirty_ahead;          // when handed index i, dirty folio
                                // i + dirty_ahead, as a concurrent writer
  int64_t detach_ahead;         // when handed index i, take folio
                                // i + detach_ahead out of the file (still
                                // dirty) while the iterator waits for its
                                // lock, as a racing truncate would
  int64_t busy_index;           // before the pass, put this folio under
                                // writeback and dirty it again; its write
  int64_t busy_ticks;           // ends this many ticks (1/100 s) later
  // Out:
  int64_t ret;                  // what the writeback returned
  int64_t nr_to_write_left;     // wbc.nr_to_write afterwards
  int64_t pages_skipped;
  int64_t writeback_index_after;
  int64_t tagged;               // folios the pass tagged TOWRITE
  int64_t refs_leaked;          // folio references taken and not given back
  int64_t left_locked;          // folios the iteration left locked (bug)
  int64_t busy_handed_out;      // busy_index was handed out: 1 after its
                                // write ended, -1 while it was still
                                // under writeback (a bug), 0 not at all
  int64_t detached_handed_out;  // folios handed out that had left the file
  int64_t nvisited;             // folios handed to writepage
  int64_t visited[WBCTL_MAXVISIT];    // the first of their indices, in order
};

#endif
