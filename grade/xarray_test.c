// Host unit test of kernel/mm/xarray.c: random operations checked against
// a simple model (an array of candidate indices with presence and marks),
// and the tree's internal invariants checked as it changes.  A second run
// does the same with multi-index entries (orders 0 to 4, as the page
// cache's folios) over a few dense ranges of indices, split included.
//
//   xarray_test [nops] [seed]      prints "xarray: N operations OK"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mm/xarray.h"

static long live_nodes;

struct xa_node *
xa_node_alloc(void)
{
  live_nodes++;
  return malloc(sizeof(struct xa_node));
}

void
xa_node_free(struct xa_node *node)
{
  live_nodes--;
  memset(node, 0xa5, sizeof(*node));   // catch use after free
  free(node);
}

#define NCAND 3000
static unsigned long cand[NCAND];       // sorted candidate indices
static void *model[NCAND];              // entry at cand[i], or 0
static int mmark[NCAND][XA_MAX_MARKS];
static unsigned long long rng = 88172645463325252ULL;
static long nops_done;

static unsigned long
rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void
fail(const char *what, unsigned long index)
{
  printf("xarray: FAIL after %ld operations: %s (index %lu)\n", nops_done, what, index);
  exit(1);
}

static int
cmp_ul(const void *a, const void *b)
{
  unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
  return x < y ? -1 : x > y;
}

// Candidates: dense near 0, clustered around a few far bases, and a few
// huge indices, so that trees of every height appear.
static void
make_candidates(void)
{
  int n = 0;
  while (n < NCAND) {
    unsigned long x;
    switch (rnd() % 4) {
    case 0: x = rnd() % 300; break;
    case 1: x = 4096 + rnd() % 5000; break;
    case 2: x = (rnd() % 8) * 262144 + rnd() % 700; break;
    default: x = rnd() % 3 == 0 ? ~0UL - rnd() % 100 : rnd() % (1UL << 40); break;
    }
    int dup = 0;
    for (int i = 0; i < n; i++)
      if (cand[i] == x)
        dup = 1;
    if (!dup)
      cand[n++] = x;
  }
  qsort(cand, NCAND, sizeof(cand[0]), cmp_ul);
}

static int
is_sibling(const void *e)
{
  return ((unsigned long)e & 3) == 2;
}

// Slot i of a bottom node holds a sibling: it names an earlier slot that
// holds an entry, and every slot between them is a sibling of it too.
static int
sibling_ok(struct xa_node *node, unsigned i)
{
  unsigned c = (unsigned)((unsigned long)node->slots[i] >> 2);
  if (c >= i || node->slots[c] == 0 || is_sibling(node->slots[c]))
    return 0;
  for (unsigned j = c + 1; j < i; j++)
    if (node->slots[j] != node->slots[i])
      return 0;
  return 1;
}

// Walk the tree: every node non-empty, used bits match slots, each mark
// bit matches the child's marks (or is only on present entries), parent
// and offset links right.  Returns the number of entries below node.
static long
check_node(struct xa_node *node, struct xa_node *parent, unsigned offset, long *nodes)
{
  long entries = 0;
  (*nodes)++;
  if (node->parent != parent || (parent && node->offset != offset))
    fail("bad parent link", 0);
  if (node->used == 0)
    fail("empty node left in the tree", 0);
  if (parent && node->shift + XA_CHUNK_SHIFT != parent->shift)
    fail("bad shift", 0);
  for (unsigned i = 0; i < XA_CHUNK_SIZE; i++) {
    int used = (node->used >> i) & 1;
    int sibling = is_sibling(node->slots[i]);
    if (used != (node->slots[i] != 0))
      fail("used bit disagrees with slot", i);
    if (sibling && (node->shift > 0 || !sibling_ok(node, i)))
      fail("a sibling entry that does not follow its canonical slot", i);
    for (int m = 0; m < XA_MAX_MARKS; m++) {
      int bit = (node->marks[m] >> i) & 1;
      if (!used && bit)
        fail("mark on an empty slot", i);
      if (sibling && bit)
        fail("mark on a sibling slot", i);
      if (used && node->shift > 0) {
        struct xa_node *child = node->slots[i];
        if (bit != (child->marks[m] != 0))
          fail("interior mark bit disagrees with child", i);
      }
    }
    if (used && !sibling)
      entries += node->shift == 0 ? 1 : check_node(node->slots[i], node, i, nodes);
  }
  return entries;
}

static void
check_tree(struct xarray *xa, long nentries)
{
  long nodes = 0;
  long entries = xa->head ? check_node(xa->head, 0, 0, &nodes) : 0;
  if (entries != nentries)
    fail("entry count differs from the model", entries);
  if (nodes != live_nodes)
    fail("nodes leaked or lost", nodes);
  if (xa->head && xa->head->shift > 0 && xa->head->used == 1 && xa->head->slots[0])
    fail("root could have been shrunk", 0);
}

// Single entries at scattered indices.  Returns the finds that hit.
static long
single_test(long nops)
{
  make_candidates();

  struct xarray xa = XA_INIT;
  long nentries = 0, found = 0;
  unsigned long version = 1;

  for (nops_done = 0; nops_done < nops; nops_done++) {
    // Bias towards a window of candidates so that neighbours interact.
    int k = rnd() % 10 < 7 ? (int)(rnd() % 200) + (int)((nops_done / 5000) % (NCAND - 200))
                           : (int)(rnd() % NCAND);
    unsigned long idx = cand[k];
    xa_mark_t m = rnd() % XA_MAX_MARKS;
    switch (rnd() % 8) {
    case 0:
    case 1: {   // store
      void *e = (void *)((version++ << 1) | 1);
      if (xa_store(&xa, idx, e) != 0)
        fail("store failed", idx);
      if (!model[k])
        nentries++;
      model[k] = e;
      break;
    }
    case 2: {   // erase
      void *e = xa_erase(&xa, idx);
      if (e != model[k])
        fail("erase returned the wrong entry", idx);
      if (model[k])
        nentries--;
      model[k] = 0;
      memset(mmark[k], 0, sizeof(mmark[k]));
      break;
    }
    case 3:     // set mark
      xa_set_mark(&xa, idx, m);
      if (model[k])
        mmark[k][m] = 1;
      break;
    case 4:     // clear mark
      xa_clear_mark(&xa, idx, m);
      mmark[k][m] = 0;
      break;
    case 5:     // load and get_mark
      if (xa_load(&xa, idx) != model[k])
        fail("load", idx);
      if (xa_get_mark(&xa, idx, m) != mmark[k][m])
        fail("get_mark", idx);
      break;
    default: {  // find, marked or any, from somewhere near idx
      xa_mark_t filter = rnd() % 4 == 3 ? XA_PRESENT : m;
      unsigned long start = idx - (rnd() % 3 == 0 ? rnd() % 100 : 0);
      if (start > idx)
        start = 0;
      unsigned long max = rnd() % 4 == 0 ? ~0UL : start + rnd() % 100000;
      if (max < start)
        max = ~0UL;
      int want = -1;
      for (int i = 0; i < NCAND; i++) {
        if (cand[i] < start || cand[i] > max || !model[i])
          continue;
        if (filter == XA_PRESENT || mmark[i][filter]) {
          want = i;
          break;
        }
      }
      unsigned long got_index = start;
      void *got = xa_find(&xa, &got_index, max, filter);
      if (want < 0 ? got != 0 : (got != model[want] || got_index != cand[want]))
        fail("find", start);
      if (got)
        found++;
      break;
    }
    }
    for (int mm = 0; mm < XA_MAX_MARKS; mm++) {
      int any = 0;
      for (int i = 0; i < NCAND && !any; i++)
        any = model[i] && mmark[i][mm];
      if (xa_marked(&xa, mm) != any)
        fail("xa_marked", mm);
    }
    if (nops_done % 97 == 0)
      check_tree(&xa, nentries);
  }
  check_tree(&xa, nentries);
  // Empty it: everything must be freed.
  for (int i = 0; i < NCAND; i++)
    xa_erase(&xa, cand[i]);
  if (xa.head != 0 || live_nodes != 0)
    fail("tree not empty after erasing everything", 0);
  return found;
}

// ---------------------------------------------------------------- multi

// Multi-index entries over NDENSE indices from each of a few bases; the
// model keeps, for each index, the first index of the entry covering it
// (or -1), and for each entry its value, order and marks.
#define NDENSE 640
#define NBASES 3
static const unsigned long bases[NBASES] = { 0, 1UL << 20, (1UL << 40) + 4096 };
static long owner[NBASES * NDENSE];
static void *dvalue[NBASES * NDENSE];
static unsigned dorder[NBASES * NDENSE];
static int dmark[NBASES * NDENSE][XA_MAX_MARKS];

static unsigned long
dindex(long k)
{
  return bases[k / NDENSE] + k % NDENSE;
}

// The model's side of erasing the entry that covers k.
static void
model_erase(long k)
{
  long c = owner[k];
  if (c < 0)
    return;
  for (long i = c; i < c + (1L << dorder[c]); i++)
    owner[i] = -1;
  dvalue[c] = 0;
  memset(dmark[c], 0, sizeof(dmark[c]));
}

static long
model_entries(void)
{
  long n = 0;
  for (long k = 0; k < NBASES * NDENSE; k++)
    n += owner[k] == k;
  return n;
}

static void
multi_store(struct xarray *xa, long k, unsigned order, void *e)
{
  k &= ~((1L << order) - 1);
  int same = owner[k] == k && dorder[k] == order;
  if (xa_store_order(xa, dindex(k), order, e) != 0)
    fail("store_order failed", dindex(k));
  if (!same)
    for (long i = k; i < k + (1L << order); i++)
      model_erase(i);
  for (long i = k; i < k + (1L << order); i++)
    owner[i] = k;
  dvalue[k] = e;
  dorder[k] = order;
}

static void
multi_split(struct xarray *xa, long k, unsigned long *version)
{
  long c = owner[k];
  void *es[1 << XA_MAX_ORDER];
  if (c < 0 || dorder[c] == 0) {
    xa_split(xa, dindex(k), es);   // must do nothing
    return;
  }
  int marks[XA_MAX_MARKS];
  memcpy(marks, dmark[c], sizeof(marks));
  unsigned n = 1U << dorder[c];
  for (unsigned i = 0; i < n; i++) {
    es[i] = (void *)((*version)++ << 1 | 1);
    owner[c + i] = c + i;
    dvalue[c + i] = es[i];
    dorder[c + i] = 0;
    memcpy(dmark[c + i], marks, sizeof(marks));
  }
  xa_split(xa, dindex(k), es);
}

// What xa_find should give from k (an index of the model) to kmax.
static long
multi_want(long k, long kmax, xa_mark_t filter)
{
  for (long j = k; j <= kmax; j++)
    if (owner[j] >= 0 && (filter == XA_PRESENT || dmark[owner[j]][filter]))
      return j;
  return -1;
}

static void
multi_find(struct xarray *xa, long k, xa_mark_t filter)
{
  long base = k / NDENSE * NDENSE;
  long kmax = base + NDENSE - 1;
  unsigned long max = dindex(kmax);
  if (rnd() % 2) {
    kmax = k + (long)(rnd() % 100);
    if (kmax >= base + NDENSE)
      kmax = base + NDENSE - 1;
    max = dindex(kmax);
  }
  long want = multi_want(k, kmax, filter);
  unsigned long got_index = dindex(k);
  void *got = xa_find(xa, &got_index, max, filter);
  if (want < 0 ? got != 0 : (got != dvalue[owner[want]] || got_index != dindex(want)))
    fail("find (multi-index)", dindex(k));
}

static void
multi_check_marks_set(struct xarray *xa, long k, xa_mark_t m, unsigned long before)
{
  long c = owner[k];
  unsigned long want = before + (c >= 0 && !dmark[c][m] ? 1UL << dorder[c] : 0);
  xa_set_mark(xa, dindex(k), m);
  if (xa->marks_set[m] != want)
    fail("marks_set does not count the indices marked", dindex(k));
  if (c >= 0)
    dmark[c][m] = 1;
}

static void
multi_step(struct xarray *xa, unsigned long *version)
{
  long k = (long)(rnd() % (NBASES * NDENSE));
  xa_mark_t m = rnd() % XA_MAX_MARKS;
  switch (rnd() % 9) {
  case 0:
  case 1:
    multi_store(xa, k, rnd() % 5, (void *)((*version)++ << 1 | 1));
    break;
  case 2: {
    void *e = xa_erase(xa, dindex(k));
    if (e != (owner[k] >= 0 ? dvalue[owner[k]] : 0))
      fail("erase (multi-index) returned the wrong entry", dindex(k));
    model_erase(k);
    break;
  }
  case 3:
    multi_check_marks_set(xa, k, m, xa->marks_set[m]);
    break;
  case 4:
    xa_clear_mark(xa, dindex(k), m);
    if (owner[k] >= 0)
      dmark[owner[k]][m] = 0;
    break;
  case 5:
    if (xa_load(xa, dindex(k)) != (owner[k] >= 0 ? dvalue[owner[k]] : 0))
      fail("load (multi-index)", dindex(k));
    if (xa_get_mark(xa, dindex(k), m) != (owner[k] >= 0 && dmark[owner[k]][m]))
      fail("get_mark (multi-index)", dindex(k));
    break;
  case 6:
    multi_split(xa, k, version);
    break;
  default:
    multi_find(xa, k, rnd() % 4 == 3 ? XA_PRESENT : m);
    break;
  }
}

static void
multi_test(long nops)
{
  struct xarray xa = XA_INIT;
  unsigned long version = 1;

  for (long k = 0; k < NBASES * NDENSE; k++)
    owner[k] = -1;
  if (xa_store_order(&xa, 3, 2, (void *)1) == 0 || xa_store_order(&xa, 0, 6, (void *)1) == 0)
    fail("store_order took a misaligned index or too large an order", 3);
  for (nops_done = 0; nops_done < nops; nops_done++) {
    multi_step(&xa, &version);
    if (nops_done % 97 == 0)
      check_tree(&xa, model_entries());
  }
  check_tree(&xa, model_entries());
  for (long k = 0; k < NBASES * NDENSE; k++)
    xa_erase(&xa, dindex(k));
  if (xa.head != 0 || live_nodes != 0)
    fail("tree not empty after erasing everything (multi-index)", 0);
}

int
main(int argc, char **argv)
{
  long nops = argc > 1 ? atol(argv[1]) : 200000;
  if (argc > 2)
    rng = strtoull(argv[2], 0, 0) | 1;
  long found = single_test(nops);
  multi_test(nops);
  printf("xarray: %ld operations OK (%ld finds hit), and %ld with multi-index entries\n",
         nops, found, nops);
  return 0;
}
