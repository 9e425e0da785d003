// Host unit test of kernel/mm/xarray.c: random operations checked against
// a simple model (an array of candidate indices with presence and marks),
// and the tree's internal invariants checked as it changes.
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
    if (used != (node->slots[i] != 0))
      fail("used bit disagrees with slot", i);
    for (int m = 0; m < XA_MAX_MARKS; m++) {
      int bit = (node->marks[m] >> i) & 1;
      if (!used && bit)
        fail("mark on an empty slot", i);
      if (used && node->shift > 0) {
        struct xa_node *child = node->slots[i];
        if (bit != (child->marks[m] != 0))
          fail("interior mark bit disagrees with child", i);
      }
    }
    if (used)
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

int
main(int argc, char **argv)
{
  long nops = argc > 1 ? atol(argv[1]) : 200000;
  if (argc > 2)
    rng = strtoull(argv[2], 0, 0) | 1;
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
  printf("xarray: %ld operations OK (%ld finds hit)\n", nops, found);
  return 0;
}
