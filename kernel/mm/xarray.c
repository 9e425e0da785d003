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

  return node ? node->slots[slot_of(node, index)] : 0;
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

// Store entry at index, replacing what was there (marks are kept).
// Storing 0 erases.  Returns 0, or -1 when a node can't be allocated
// (the tree is then unchanged).
int
xa_store(struct xarray *xa, unsigned long index, void *entry)
{
  if (entry == 0) {
    xa_erase(xa, index);
    return 0;
  }
  if (xa->head == 0) {
    unsigned shift = 0;
    while (shift + XA_CHUNK_SHIFT < 64 && index >> (shift + XA_CHUNK_SHIFT))
      shift += XA_CHUNK_SHIFT;
    if ((xa->head = new_node(0, 0, shift)) == 0)
      return -1;
  } else if (grow(xa, index) != 0) {
    return -1;
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
        return -1;
      }
      node->slots[off] = child;
      node->used |= 1UL << off;
    }
    node = child;
  }
  unsigned off = slot_of(node, index);
  node->slots[off] = entry;
  node->used |= 1UL << off;
  return 0;
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

void *
xa_erase(struct xarray *xa, unsigned long index)
{
  struct xa_node *node = find_leaf(xa, index);

  if (node == 0)
    return 0;
  unsigned off = slot_of(node, index);
  void *entry = node->slots[off];
  if (entry == 0)
    return 0;
  for (xa_mark_t m = 0; m < XA_MAX_MARKS; m++)
    if (node->marks[m] & (1UL << off))
      clear_mark_up(node, off, m);
  node->slots[off] = 0;
  node->used &= ~(1UL << off);
  delete_empty(xa, node);
  shrink(xa);
  return entry;
}

// Marks exist only on present entries; marking an empty index does nothing.
void
xa_set_mark(struct xarray *xa, unsigned long index, xa_mark_t mark)
{
  struct xa_node *node = find_leaf(xa, index);

  if (node == 0 || mark >= XA_MAX_MARKS)
    return;
  unsigned off = slot_of(node, index);
  if (node->slots[off] == 0 || (node->marks[mark] & (1UL << off)))
    return;
  __atomic_fetch_add(&xa->marks_set[mark], 1, __ATOMIC_RELAXED);   // read without the lock
  while (node && !(node->marks[mark] & (1UL << off))) {
    node->marks[mark] |= 1UL << off;
    off = node->offset;
    node = node->parent;
  }
}

void
xa_clear_mark(struct xarray *xa, unsigned long index, xa_mark_t mark)
{
  struct xa_node *node = find_leaf(xa, index);

  if (node == 0 || mark >= XA_MAX_MARKS)
    return;
  unsigned off = slot_of(node, index);
  if (node->marks[mark] & (1UL << off))
    clear_mark_up(node, off, mark);
}

bool
xa_get_mark(struct xarray *xa, unsigned long index, xa_mark_t mark)
{
  struct xa_node *node = find_leaf(xa, index);

  if (node == 0 || mark >= XA_MAX_MARKS)
    return false;
  return (node->marks[mark] >> slot_of(node, index)) & 1;
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

// The first entry at an index in [*indexp, max] that has the mark filter
// (or any entry, for XA_PRESENT).  Sets *indexp to its index.  Returns 0
// if there is none.
//
// The walk goes down towards *indexp and, in each node, jumps straight to
// the next slot whose bitmap bit is set; when a node has nothing left it
// climbs to the parent's next slot.  Unmarked subtrees are never entered.
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
    uint64_t bits = filter == XA_PRESENT ? node->used : node->marks[filter];
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
