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
// An entry may cover more than one index: a *multi-index entry* of order
// k covers the 2^k indices from a multiple of 2^k (the page cache keeps a
// large folio so).  k is below XA_CHUNK_SHIFT, so the entry lives in one
// bottom node: its first slot, the canonical slot, holds the entry and
// its marks, and each of the others holds a sibling entry that names the
// canonical slot.  Every function below treats a multi-index entry as
// present, with its marks, at each index it covers: xa_load() of any of
// them returns it, xa_set_mark() on any of them marks it.
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

#define XA_MAX_ORDER   (XA_CHUNK_SHIFT - 1)   // the largest multi-index entry

// One node: 64 slots, each an entry (shift == 0) or a child node.  In a
// bottom node a slot may also hold a sibling entry, (canonical slot << 2)
// | 2: so an entry stored in an xarray must not have the two low bits 10
// (a pointer to anything aligned, or an odd value, is fine).
struct xa_node {
  unsigned char shift;      // index bits below this node's slots: 0 in
                            // the bottom nodes, whose slots are entries
  unsigned char offset;     // this node's slot in its parent
  struct xa_node *parent;
  uint64_t used;            // bit i: slot i is not empty (siblings too)
  uint64_t marks[XA_MAX_MARKS];   // bit i: slot i has (something with) mark;
                                  // never on a sibling slot
  void *slots[XA_CHUNK_SIZE];
};

// The root node covers indices below 1 << (root->shift + XA_CHUNK_SHIFT);
// a store beyond that adds a level on top.  Empty nodes are freed at once,
// so every node in the tree leads to at least one entry.
//
// marks_set counts, for each mark, the indices covered by the entries it
// was set on when they did not have it (2^k for an entry of order k): a
// running total that never goes down.  The page cache reads it before and
// after a writeback to learn how many pages that writeback tagged,
// without asking the code that tags (the lab's).
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
int xa_store_order(struct xarray *xa, unsigned long index, unsigned order, void *entry);
void xa_split(struct xarray *xa, unsigned long index, void **entries);
void *xa_erase(struct xarray *xa, unsigned long index);
void xa_set_mark(struct xarray *xa, unsigned long index, xa_mark_t mark);
void xa_clear_mark(struct xarray *xa, unsigned long index, xa_mark_t mark);
bool xa_get_mark(struct xarray *xa, unsigned long index, xa_mark_t mark);
bool xa_marked(struct xarray *xa, xa_mark_t mark);
void *xa_find(struct xarray *xa, unsigned long *indexp, unsigned long max,
              xa_mark_t filter);
bool xa_empty(struct xarray *xa);

#endif
