// The xarray: see xarray.h.
#include "mm/xarray.h"

// Index bits covered by one slot of node, plus the node's own 6: the
// node covers an aligned range of 1 << span(node) indices.
static unsigned
span(const struct xa_node *node)
{
  return node->shift + XA_CHUNK_SHIFT;
}

// The largest index a tree with this root can hold.
static unsigned long
max_index(const struct xa_node *node)
{
  return span(node) >= 64 ? ~0UL : (1UL << span(node)) - 1;
}

// The number of the lowest set bit of x (x != 0).  Written out because
// rv64imac has no instruction for it and the kernel links no libgcc.
static unsigned
lowest_bit(uint64_t x)
{
  unsigned n = 0;

  for (unsigned half = 32; half > 0; half /= 2) {
    if ((x & ((1UL << half) - 1)) == 0) {
      n += half;
      x >>= half;
    }
  }
  return n;
}

static unsigned
slot_of(const struct xa_node *node, unsigned long index)
{
  return (index >> node->shift) & XA_CHUNK_MASK;
}

// Sibling entries: the other slots of a multi-index entry (xarray.h).
static bool
is_sibling(const void *entry)
{
  return ((uintptr_t)entry & 3) == 2;
}

static void *
make_sibling(unsigned canonical)
{
  return (void *)(((uintptr_t)canonical << 2) | 2);
}

// The canonical slot of the entry in slot off of a bottom node.
static unsigned
canonical(const struct xa_node *node, unsigned off)
{
  const void *entry = node->slots[off];

  return is_sibling(entry) ? (unsigned)((uintptr_t)entry >> 2) : off;
}

// The order of the entry whose canonical slot is off: how many siblings
// follow it.
static unsigned
entry_order(const struct xa_node *node, unsigned off)
{
  unsigned n = 1;

  while (off + n < XA_CHUNK_SIZE && node->slots[off + n] == make_sibling(off))
    n++;
  return lowest_bit(n);
}

static struct xa_node *
new_node(struct xa_node *parent, unsigned offset, unsigned shift)
{
  struct xa_node *node = xa_node_alloc();

  if (node == 0)
    return 0;
  node->shift = shift;
  node->offset = offset;
  node->parent = parent;
  node->used = 0;
  for (int m = 0; m < XA_MAX_MARKS; m++)
    node->marks[m] = 0;
  for (unsigned i = 0; i < XA_CHUNK_SIZE; i++)
    node->slots[i] = 0;
  return node;
}

// The bottom node that holds index, or 0 if there is none.
static struct xa_node *
find_leaf(struct xarray *xa, unsigned long index)
{
  struct xa_node *node = xa->head;

  if (node == 0 || index > max_index(node))
    return 0;
  while (node && node->shift > 0)
    node = node->slots[slot_of(node, index)];
  return node;
}

void *
xa_load(struct xarray *xa, unsigned long index)
{
  struct xa_node *node = find_leaf(xa, index);

  return node ? node->slots[canonical(node, slot_of(node, index))] : 0;
}

// Put a new root on top until the tree can hold index.  The old root
// becomes slot 0 of the new one and hands its marks up.
static int
grow(struct xarray *xa, unsigned long index)
{
  while (index > max_index(xa->head)) {
    struct xa_node *old = xa->head;
    struct xa_node *root = new_node(0, 0, span(old));
    if (root == 0)
      return -1;
    root->slots[0] = old;
    root->used = 1;
    for (int m = 0; m < XA_MAX_MARKS; m++)
      root->marks[m] = old->marks[m] ? 1 : 0;
    old->parent = root;
    old->offset = 0;
    xa->head = root;
  }
  return 0;
}

// Free node and then every ancestor that it leaves empty.
static void
delete_empty(struct xarray *xa, struct xa_node *node)
{
  while (node && node->used == 0) {
    struct xa_node *parent = node->parent;
    if (parent) {
      uint64_t bit = 1UL << node->offset;
      parent->slots[node->offset] = 0;
      parent->used &= ~bit;
      for (int m = 0; m < XA_MAX_MARKS; m++)
        parent->marks[m] &= ~bit;
    } else {
      xa->head = 0;
    }
    xa_node_free(node);
    node = parent;
  }
}

// While the root has only slot 0 in use, its child can be the root.
static void
shrink(struct xarray *xa)
{
  struct xa_node *root = xa->head;

  while (root && root->shift > 0 && root->used == 1) {
    struct xa_node *child = root->slots[0];
    child->parent = 0;
    xa->head = child;
    xa_node_free(root);
    root = child;
  }
}

// The bottom node for index, made (with any nodes above it) if missing.
// Returns 0 when a node cannot be allocated; the tree is then unchanged.
static struct xa_node *
make_leaf(struct xarray *xa, unsigned long index)
{
  if (xa->head == 0) {
    unsigned shift = 0;
    while (shift + XA_CHUNK_SHIFT < 64 && index >> (shift + XA_CHUNK_SHIFT))
      shift += XA_CHUNK_SHIFT;
    if ((xa->head = new_node(0, 0, shift)) == 0)
      return 0;
  } else if (grow(xa, index) != 0) {
    return 0;
  }

  struct xa_node *node = xa->head;
  while (node->shift > 0) {
    unsigned off = slot_of(node, index);
    struct xa_node *child = node->slots[off];
    if (child == 0) {
      child = new_node(node, off, node->shift - XA_CHUNK_SHIFT);
      if (child == 0) {
        delete_empty(xa, node);
        shrink(xa);
        return 0;
      }
      node->slots[off] = child;
      node->used |= 1UL << off;
    }
    node = child;
  }
  return node;
}

// Clear mark bit off in node, and upwards while nodes lose their last
// marked slot.
static void
clear_mark_up(struct xa_node *node, unsigned off, xa_mark_t mark)
{
  while (node) {
    node->marks[mark] &= ~(1UL << off);
    if (node->marks[mark] != 0)
      break;
    off = node->offset;
    node = node->parent;
  }
}

// Set mark bit off in node, and upwards while nodes had no such mark.
static void
set_mark_up(struct xa_node *node, unsigned off, xa_mark_t mark)
{
  while (node && !(node->marks[mark] & (1UL << off))) {
    node->marks[mark] |= 1UL << off;
    off = node->offset;
    node = node->parent;
  }
}

// Empty the slots of the entry whose canonical slot is off, with its
// marks.  The node may be left empty: the caller tidies up.
static void
clear_entry(struct xa_node *node, unsigned off)
{
  unsigned n = 1U << entry_order(node, off);

  for (xa_mark_t m = 0; m < XA_MAX_MARKS; m++)
    if (node->marks[m] & (1UL << off))
      clear_mark_up(node, off, m);
  for (unsigned i = off; i < off + n; i++) {
    node->slots[i] = 0;
    node->used &= ~(1UL << i);
  }
}

/*
 * xa_store_order - store entry over the 2^order indices from index, which
 * must be a multiple of 2^order (order <= XA_MAX_ORDER).  Whatever was
 * there is replaced: an entry with exactly that range keeps its marks;
 * any other entry the range touches is erased whole, with its marks.
 * Storing 0 erases.  Returns 0, or -1 when a node can't be allocated or
 * the arguments are wrong (the tree is then unchanged).
 */
int
xa_store_order(struct xarray *xa, unsigned long index, unsigned order, void *entry)
{
  unsigned n = 1U << order;

  if (order > XA_MAX_ORDER || (index & (n - 1)) || is_sibling(entry))
    return -1;
  if (entry == 0) {
    for (unsigned long i = index; i < index + n; i++)
      xa_erase(xa, i);
    return 0;
  }
  struct xa_node *node = make_leaf(xa, index);
  if (node == 0)
    return -1;
  unsigned first = slot_of(node, index);
  void *old = node->slots[first];
  if (!(old && !is_sibling(old) && entry_order(node, first) == order)) {
    // Not the same range: erase everything it overlaps (an entry that
    // covers the range, or entries inside it).
    for (unsigned i = first; i < first + n; i++)
      if (node->used & (1UL << i))
        clear_entry(node, canonical(node, i));
  }
  node->slots[first] = entry;
  for (unsigned i = first + 1; i < first + n; i++)
    node->slots[i] = make_sibling(first);
  node->used |= (n == XA_CHUNK_SIZE ? ~0UL : (1UL << n) - 1) << first;
  return 0;
}

// Store entry at index, replacing what was there (see xa_store_order).
int
xa_store(struct xarray *xa, unsigned long index, void *entry)
{
  return xa_store_order(xa, index, 0, entry);
}

// Erase the entry that covers index (all of its indices).  Returns it.
void *
xa_erase(struct xarray *xa, unsigned long index)
{
  struct xa_node *node = find_leaf(xa, index);

  if (node == 0)
    return 0;
  unsigned off = canonical(node, slot_of(node, index));
  void *entry = node->slots[off];
  if (entry == 0)
    return 0;
  clear_entry(node, off);
  delete_empty(xa, node);
  shrink(xa);
  return entry;
}

/*
 * xa_split - replace the multi-index entry that covers index, of order k,
 * by the 2^k entries entries[0 .. 2^k - 1], one per index, each with the
 * marks the entry had.  Needs no memory, so it cannot fail; an index
 * with no entry, or with a single one, is left alone.
 */
void
xa_split(struct xarray *xa, unsigned long index, void **entries)
{
  struct xa_node *node = find_leaf(xa, index);

  if (node == 0 || node->slots[slot_of(node, index)] == 0)
    return;
  unsigned first = canonical(node, slot_of(node, index));
  unsigned n = 1U << entry_order(node, first);
  if (n == 1)
    return;
  for (unsigned i = 0; i < n; i++)
    node->slots[first + i] = entries[i];
  for (xa_mark_t m = 0; m < XA_MAX_MARKS; m++)
    if (node->marks[m] & (1UL << first))
      node->marks[m] |= (n == XA_CHUNK_SIZE ? ~0UL : (1UL << n) - 1) << first;
}

// Marks exist only on present entries; marking an empty index does nothing.
void
xa_set_mark(struct xarray *xa, unsigned long index, xa_mark_t mark)
{
  struct xa_node *node = find_leaf(xa, index);

  if (node == 0 || mark >= XA_MAX_MARKS)
    return;
  unsigned off = canonical(node, slot_of(node, index));
  if (node->slots[off] == 0 || (node->marks[mark] & (1UL << off)))
    return;
  __atomic_fetch_add(&xa->marks_set[mark], 1UL << entry_order(node, off),
                     __ATOMIC_RELAXED);   // read without the lock
  set_mark_up(node, off, mark);
}

void
xa_clear_mark(struct xarray *xa, unsigned long index, xa_mark_t mark)
{
  struct xa_node *node = find_leaf(xa, index);

  if (node == 0 || mark >= XA_MAX_MARKS)
    return;
  unsigned off = canonical(node, slot_of(node, index));
  if (node->marks[mark] & (1UL << off))
    clear_mark_up(node, off, mark);
}

bool
xa_get_mark(struct xarray *xa, unsigned long index, xa_mark_t mark)
{
  struct xa_node *node = find_leaf(xa, index);

  if (node == 0 || mark >= XA_MAX_MARKS)
    return false;
  return (node->marks[mark] >> canonical(node, slot_of(node, index))) & 1;
}

// Does any entry have the mark?
bool
xa_marked(struct xarray *xa, xa_mark_t mark)
{
  return xa->head != 0 && mark < XA_MAX_MARKS && xa->head->marks[mark] != 0;
}

bool
xa_empty(struct xarray *xa)
{
  return xa->head == 0;
}

// The bits of node's slots that xa_find looks for.
static uint64_t
find_bits(const struct xa_node *node, xa_mark_t filter)
{
  return filter == XA_PRESENT ? node->used : node->marks[filter];
}

// The first index in [*indexp, max] at which an entry with the mark
// filter (or any entry, for XA_PRESENT) is present.  Sets *indexp to that
// index: *indexp itself if a multi-index entry covers it, else the first
// index of the entry found.  Returns the entry, or 0 if there is none.
//
// The walk goes down towards *indexp and, in each node, jumps straight to
// the next slot whose bitmap bit is set; when a node has nothing left it
// climbs to the parent's next slot.  Unmarked subtrees are never entered.
// Only the first bottom node can start inside a multi-index entry (any
// later one is entered at its slot 0), so only there can the walk start
// on a sibling, whose marks are on its canonical slot.
void *
xa_find(struct xarray *xa, unsigned long *indexp, unsigned long max, xa_mark_t filter)
{
  struct xa_node *node = xa->head;
  unsigned long index = *indexp;

  if (node == 0 || index > max || index > max_index(node))
    return 0;
  if (filter != XA_PRESENT && filter >= XA_MAX_MARKS)
    return 0;
  for (;;) {
    unsigned off = slot_of(node, index);
    uint64_t bits = find_bits(node, filter);
    if (node->shift == 0 && index == *indexp && (bits >> canonical(node, off)) & 1 &&
        node->slots[off] != 0) {
      // The start is covered by an entry with the mark.
      return node->slots[canonical(node, off)];
    }
    bits &= ~0UL << off;
    if (bits == 0) {
      // Nothing more here.  Climb to the nearest ancestor in which this
      // subtree is not the last slot, and go on at the next slot there.
      while (node->parent && node->offset == XA_CHUNK_MASK)
        node = node->parent;
      if (node->parent == 0 || span(node) >= 64)
        return 0;
      unsigned long next = ((index >> span(node)) + 1) << span(node);
      if (next == 0 || next > max)   // 0: wrapped past the last index
        return 0;
      index = next;
      node = node->parent;
      continue;
    }
    unsigned i = lowest_bit(bits);
    if (i != off) {
      unsigned long base = span(node) >= 64 ? 0 : index & ~((1UL << span(node)) - 1);
      index = base | ((unsigned long)i << node->shift);
    }
    if (index > max)
      return 0;
    if (node->shift == 0) {
      *indexp = index;
      return node->slots[i];
    }
    node = node->slots[i];
  }
}
