// The xarray: a radix tree from page index to folio, with marks.
//
// Every address_space keeps its folios in one of these, keyed by the
// folio's index in the file.  Besides the entries, the tree keeps three
// marks (XA_MARK_0..2: the page cache calls them DIRTY, WRITEBACK and
// TOWRITE) on every
// entry, and every interior node keeps, for each of its 64 slots and each
// mark, one bit saying "something below this slot has the mark".  So the
// search for the next dirty folio skips whole clean subtrees: its cost
// grows with the number of marked entries, not with the size of the cache.
//
// The xarray does no locking of its own: the owner serialises changes
// (address_space.i_pages_lock) and may read under the same lock.  It is
// compiled for the host too, for the unit tests in grade/, so it uses
// nothing from the kernel but the two node allocation hooks below.
#ifndef QUIRE_XARRAY_H
#define QUIRE_XARRAY_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define XA_CHUNK_SHIFT 6
#define XA_CHUNK_SIZE  (1UL << XA_CHUNK_SHIFT)   // slots per node
#define XA_CHUNK_MASK  (XA_CHUNK_SIZE - 1)

typedef unsigned int xa_mark_t;
#define XA_MARK_0      0
#define XA_MARK_1      1
#define XA_MARK_2      2
#define XA_MAX_MARKS   3
#define XA_PRESENT     8   // xa_find(): any entry, marked or not

// One node: 64 slots, each an entry (shift == 0) or a child node.
struct xa_node {
  unsigned char shift;      // index bits below this node's slots: 0 in
                            // the bottom nodes, whose slots are entries
  unsigned char offset;     // this node's slot in its parent
  struct xa_node *parent;
  uint64_t used;            // bit i: slot i is not empty
  uint64_t marks[XA_MAX_MARKS];   // bit i: slot i has (something with) mark
  void *slots[XA_CHUNK_SIZE];
};

// The root node covers indices below 1 << (root->shift + XA_CHUNK_SHIFT);
// a store beyond that adds a level on top.  Empty nodes are freed at once,
// so every node in the tree leads to at least one entry.
//
// marks_set counts, for each mark, the times it was set on an entry that
// did not have it: a running total that never goes down.  The page cache
// reads it before and after a writeback to learn how many folios that
// writeback tagged, without asking the code that tags (the lab's).
struct xarray {
  struct xa_node *head;     // the root node, or 0 when empty
  unsigned long marks_set[XA_MAX_MARKS];
};

#define XA_INIT { 0 }

// Provided by the user of xarray.c: node memory.  Must not sleep.
struct xa_node *xa_node_alloc(void);
void xa_node_free(struct xa_node *node);

void *xa_load(struct xarray *xa, unsigned long index);
int xa_store(struct xarray *xa, unsigned long index, void *entry);
void *xa_erase(struct xarray *xa, unsigned long index);
void xa_set_mark(struct xarray *xa, unsigned long index, xa_mark_t mark);
void xa_clear_mark(struct xarray *xa, unsigned long index, xa_mark_t mark);
bool xa_get_mark(struct xarray *xa, unsigned long index, xa_mark_t mark);
bool xa_marked(struct xarray *xa, xa_mark_t mark);
void *xa_find(struct xarray *xa, unsigned long *indexp, unsigned long max,
              xa_mark_t filter);
bool xa_empty(struct xarray *xa);

#endif
