// The physical page allocator: a buddy allocator of blocks of 2^k pages,
// k = 0 .. FOLIO_MAX_ORDER (one page to 16 pages, 64 KiB), each block
// aligned to its size.
//
// Why a buddy allocator: the page cache's large folios need up to 16
// contiguous pages, aligned, and everything else wants single pages.  A
// free block of order k is on free_area[k].  Allocating order k takes a
// block from the smallest non-empty list at or above k and splits it in
// halves, putting the halves it does not need on the lists below.
// Freeing a block looks at its *buddy*, the other half of the block of
// order k + 1 that the two would make (its page number differs in bit k
// only): if the buddy is free and whole, the two merge, and so on up.  So
// freed pages come back together into large blocks with no search, and
// with only five orders the lists stay short to describe.  (A simpler
// scheme, a second free list of 64 KiB blocks, would never get its blocks
// back once the single pages carved from them were freed one by one.)
//
// A free block keeps its state in the folio_table entry of its first page
// (PG_buddy, the order, the lru link on its free list), not in the page:
// freed pages are filled with a junk pattern so that a use after free
// shows up as garbage rather than as plausible old data.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "lib/list.h"
#include "mm/mm.h"
#include "mm/folio.h"

extern char end[];   // first address after the kernel image (kernel.ld)

static struct {
  struct spinlock lock;
  struct list_head free_area[FOLIO_MAX_ORDER + 1];   // free blocks, by order
  uint64 nblocks[FOLIO_MAX_ORDER + 1];               // ... how many on each
  uint64 nfree;        // free pages, in blocks of every order
  uint64 ntotal;       // pages the allocator manages
  uint64 first;        // the lowest of them
} kmem;

// Pages are numbered from KERNBASE, which is aligned to the largest
// block, so a block aligned in page numbers is aligned in memory.
static uint64
page_no(void *pa)
{
  return ((uint64)pa - KERNBASE) / PGSIZE;
}

static void *
page_at(uint64 n)
{
  return (void *)(KERNBASE + n * PGSIZE);
}

// Put the block of order k at page n on its free list (kmem.lock held).
static void
add_block(uint64 n, int k)
{
  struct folio *e = page_entry(page_at(n));

  e->flags = 1UL << PG_buddy;
  e->order = k;
  list_add(&e->lru, &kmem.free_area[k]);
  kmem.nblocks[k]++;
}

static void
del_block(struct folio *e)
{
  list_del_init(&e->lru);
  e->flags = 0;
  kmem.nblocks[e->order]--;
}

// The buddy of the block of order k at page n, if it is a free block of
// order k (so the two can merge); else 0.
static struct folio *
free_buddy(uint64 n, int k)
{
  uint64 b = (uint64)page_at(n ^ (1UL << k));

  if (b < kmem.first || b + ((uint64)PGSIZE << k) > PHYSTOP)
    return 0;
  struct folio *e = page_entry((void *)b);
  return (e->flags & (1UL << PG_buddy)) && e->order == k ? e : 0;
}

// Give back the block of order k at pa, merging it with its buddies.
static void
free_block(void *pa, int k)
{
  uint64 n = page_no(pa);
  struct folio *buddy;

  acquire(&kmem.lock);
  if (page_entry(pa)->flags & (1UL << PG_buddy))
    panic("kfree: %p is free already", pa);
  kmem.nfree += 1UL << k;
  while (k < FOLIO_MAX_ORDER && (buddy = free_buddy(n, k)) != 0) {
    del_block(buddy);
    n &= ~(1UL << k);
    k++;
  }
  add_block(n, k);
  release(&kmem.lock);
}

void
kinit(void)
{
  initlock(&kmem.lock, "kmem");
  for (int k = 0; k <= FOLIO_MAX_ORDER; k++)
    INIT_LIST_HEAD(&kmem.free_area[k]);
  kmem.first = folio_table_init(PGROUNDUP((uint64)end));
  // The largest aligned blocks that fit.  No junk fill here: writing all
  // of RAM once would slow the boot down.
  for (uint64 pa = kmem.first; pa + PGSIZE <= PHYSTOP; ) {
    int k = FOLIO_MAX_ORDER;
    while (k > 0 && (page_no((void *)pa) % (1UL << k) != 0 || pa + ((uint64)PGSIZE << k) > PHYSTOP))
      k--;
    free_block((void *)pa, k);
    kmem.ntotal += 1UL << k;
    pa += (uint64)PGSIZE << k;
  }
}

/**
 * kalloc_pages - allocate 2^order contiguous pages, aligned to their size
 * @order: 0 .. FOLIO_MAX_ORDER
 * Return: the first page's address, or 0 when no free block is that
 * large.  The contents are undefined.
 */
void *
kalloc_pages(int order)
{
  int k = order;

  if (order < 0 || order > FOLIO_MAX_ORDER)
    panic("kalloc_pages: order %d", order);
  acquire(&kmem.lock);
  while (k <= FOLIO_MAX_ORDER && list_empty(&kmem.free_area[k]))
    k++;
  if (k > FOLIO_MAX_ORDER) {
    release(&kmem.lock);
    return 0;
  }
  struct folio *e = list_first_entry(&kmem.free_area[k], struct folio, lru);
  del_block(e);
  uint64 n = page_no(folio_address(e));
  while (k > order) {   // keep the lower half, free the upper one
    k--;
    add_block(n + (1UL << k), k);
  }
  kmem.nfree -= 1UL << order;
  release(&kmem.lock);
  return page_at(n);
}

/**
 * kfree_pages - free a block that kalloc_pages() returned
 * @pa: its first page
 * @order: the order it was allocated with
 */
void
kfree_pages(void *pa, int order)
{
  uint64 a = (uint64)pa;

  if (order < 0 || order > FOLIO_MAX_ORDER || a % ((uint64)PGSIZE << order) != 0 ||
      a < kmem.first || a + ((uint64)PGSIZE << order) > PHYSTOP)
    panic("kfree: bad block %p of order %d", pa, order);
  memset(pa, 0x5a, (uint64)PGSIZE << order);
  free_block(pa, order);
}

void
kfree(void *pa)
{
  kfree_pages(pa, 0);
}

// Allocate a page, or return 0 when memory is exhausted.  Its contents
// are undefined.
void *
kalloc(void)
{
  return kalloc_pages(0);
}

// Allocate a zero-filled page, or return 0.
void *
kzalloc(void)
{
  void *pa = kalloc();

  if (pa)
    memset(pa, 0, PGSIZE);
  return pa;
}

uint64
nr_free_pages(void)
{
  return kmem.nfree;
}

uint64
nr_total_pages(void)
{
  return kmem.ntotal;
}

// Free blocks of at least 2^order pages, for wbstat.
uint64
nr_free_blocks(int order)
{
  uint64 n = 0;

  for (int k = order; k <= FOLIO_MAX_ORDER; k++)
    n += kmem.nblocks[k] << (k - order);
  return n;
}
