// The writeback trace: a ring of recent page-cache and writeback events,
// read with wbtrace(2) and drawn as a timeline by grade/timeline.py.
#ifndef QUIRE_UAPI_WBTRACE_H
#define QUIRE_UAPI_WBTRACE_H

#include <stdint.h>

enum wbtrace_type {
  TR_DIRTY = 1,      // a clean folio became dirty
  TR_TOWRITE,        // after a pass: it tagged aux folios TOWRITE, from index on
  TR_WB_START,       // folio_start_writeback
  TR_WB_END,         // folio_end_writeback (the disk finished)
  TR_WB_ERROR,       // a write failed (aux = errno)
  TR_WRITEPAGES,     // ->writepages began (index = first index, aux = nr_to_write)
  TR_WRITEPAGES_END, // ->writepages returned (aux = error)
  TR_INODE_QUEUE,    // the flusher moved an inode to b_io
  TR_INODE_REQUEUE,  // ... back to b_dirty (redirty_tail) or to b_more_io
  TR_FLUSHER_WAKE,   // the flusher woke up (aux = reason)
  TR_THROTTLE,       // a writer slept in balance_dirty_pages (aux = dirty pages)
  TR_RECLAIM,        // reclaim dropped (or wrote) a folio
};

// mode: bit 0 = WB_SYNC_ALL, bit 1 = for_kupdate, bit 2 = for_background,
// bit 3 = for_reclaim, bit 4 = for_sync, bit 5 = range_cyclic.
#define WBTRACE_SYNC_ALL    0x01
#define WBTRACE_KUPDATE     0x02
#define WBTRACE_BACKGROUND  0x04
#define WBTRACE_RECLAIM     0x08
#define WBTRACE_SYNC        0x10
#define WBTRACE_CYCLIC      0x20

struct wbtrace_event {
  uint64_t seq;       // event number since boot, from 1
  uint64_t time_us;   // microseconds since boot
  uint64_t index;     // page index (or as the type says)
  int64_t aux;        // as the type says
  uint32_t ino;       // inode number, 0 if none
  int16_t pid;        // the process that caused it (0: interrupt)
  uint8_t type;       // enum wbtrace_type
  uint8_t mode;       // WBTRACE_* bits of the writeback, if any
};

#endif
