// The physical page allocator: a free list of 4096-byte pages.
//
// Every page of RAM above the kernel image and the folio table, up to
// PHYSTOP, starts on the list.  Freed pages are filled with a junk pattern so that a use after
// free shows up as garbage rather than as plausible old data.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "mm/folio.h"

extern char end[];   // first address after the kernel image (kernel.ld)

struct run {
  struct run *next;
};

static struct {
  struct spinlock lock;
  struct run *freelist;
  uint64 nfree;        // pages on the free list
  uint64 ntotal;       // pages the allocator manages
  uint64 first;        // the lowest of them
} kmem;

static void
kfree_raw(void *pa)
{
  struct run *r = pa;

  acquire(&kmem.lock);
  r->next = kmem.freelist;
  kmem.freelist = r;
  kmem.nfree++;
  release(&kmem.lock);
}

void
kinit(void)
{
  initlock(&kmem.lock, "kmem");
  kmem.first = folio_table_init(PGROUNDUP((uint64)end));
  // No junk fill here: writing all of RAM once would slow the boot down.
  for (uint64 pa = kmem.first; pa + PGSIZE <= PHYSTOP; pa += PGSIZE) {
    kfree_raw((void *)pa);
    kmem.ntotal++;
  }
}

void
kfree(void *pa)
{
  if ((uint64)pa % PGSIZE != 0 || (uint64)pa < kmem.first || (uint64)pa >= PHYSTOP)
    panic("kfree: bad page %p", pa);
  memset(pa, 0x5a, PGSIZE);
  kfree_raw(pa);
}

// Allocate a page, or return 0 when memory is exhausted.  Its contents
// are undefined.
void *
kalloc(void)
{
  struct run *r;

  acquire(&kmem.lock);
  r = kmem.freelist;
  if (r) {
    kmem.freelist = r->next;
    kmem.nfree--;
  }
  release(&kmem.lock);
  return r;
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
