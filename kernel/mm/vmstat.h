// Global page counters, with Linux's names (its "node page state"): how
// many pages the page cache holds, how many of them are dirty or under
// writeback, and running totals.  Dirty throttling and the flusher decide
// by them; wbstat(2) shows them.  They are updated without a lock, so a
// reader sees each one exact but not all of them at one instant.
#ifndef QUIRE_VMSTAT_H
#define QUIRE_VMSTAT_H

#include "types.h"

enum node_stat_item {
  NR_FILE_PAGES,    // pages in the page cache
  NR_FILE_DIRTY,    // ... of them dirty
  NR_WRITEBACK,     // ... of them under writeback
  NR_DIRTIED,       // pages dirtied since boot
  NR_WRITTEN,       // pages whose writeback started since boot
  NR_RECLAIMED,     // page-cache pages reclaimed since boot (Linux: pgsteal)
  NR_VM_NODE_STAT_ITEMS
};

extern int64 vm_node_stat[NR_VM_NODE_STAT_ITEMS];   // mm/filemap.c

static inline void
mod_node_page_state(enum node_stat_item item, int64 delta)
{
  __atomic_fetch_add(&vm_node_stat[item], delta, __ATOMIC_RELAXED);
}

static inline int64
global_node_page_state(enum node_stat_item item)
{
  return __atomic_load_n(&vm_node_stat[item], __ATOMIC_RELAXED);
}

#endif
