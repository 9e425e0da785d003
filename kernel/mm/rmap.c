// Reverse mapping: from a page-cache folio to the user page-table entries
// that map it, through the MAP_SHARED regions on its mapping's i_mmap list.
// Each page of a large folio is mapped by entries of its own: a region
// may show all of the folio's pages or only some.
//
// Writeback uses it to make a folio read-only in every process before it
// writes the folio (folio_mkclean), so that a later store faults and
// dirties the folio again; truncate uses it to unmap folios that leave the
// file (folio_unmap_all).
//
// Changing a page-table entry is not enough while another hart runs the
// process: its TLB may still hold the old, writable translation.  Linux
// sends that hart an interrupt that makes it flush (a TLB shootdown).
// Quire does nearly that: every trap from user mode switches to the
// kernel's page table, which flushes the TLB, so it interrupts each hart
// running the process in user mode (ipi.c) and waits until that hart has
// trapped once.  Without the interrupt device the hart's next timer tick
// does the same, at most a tick later.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/mmap.h"
#include "mm/rmap.h"
#include "proc/proc.h"
#include "trap/trap.h"
#include "trap/ipi.h"

// Wait until no hart can still use a TLB entry of p's made before now.
static void
flush_tlb_of(struct proc *p)
{
  int me = cpuid_safe();

  for (int h = 0; h < NCPU; h++) {
    struct cpu *c = &cpus[h];
    if (h == me || __atomic_load_n(&c->proc, __ATOMIC_SEQ_CST) != p ||
        !__atomic_load_n(&c->in_user, __ATOMIC_SEQ_CST))
      continue;
    uint64 seen = __atomic_load_n(&c->user_traps, __ATOMIC_SEQ_CST);
    ipi_send(h);   // trap now, if there is a device to ask with
    while (__atomic_load_n(&c->user_traps, __ATOMIC_SEQ_CST) == seen &&
           __atomic_load_n(&c->proc, __ATOMIC_SEQ_CST) == p &&
           __atomic_load_n(&c->in_user, __ATOMIC_SEQ_CST)) {
      acquire(&tickslock);
      sleep(&ticks, &tickslock);
      release(&tickslock);
    }
  }
}

// Call fn(folio, i, pte, arg) for every user page-table entry that maps
// page i of folio, with mapping->i_pages_lock held (the lock under which
// entries of shared mappings are made and removed).  Collects in touched
// the processes of the entries for which fn returned true; returns how
// many entries that was.
static int
visit_ptes(struct folio *folio, int (*fn)(struct folio *, long, pte_t *, void *), void *arg,
           struct proc **touched, int *ntouched)
{
  struct address_space *mapping = folio->mapping;
  int changed = 0;
  struct vma *v;

  list_for_each_entry(v, &mapping->i_mmap, shared) {
    pgoff_t vlast = v->pgoff + (v->end - v->start) / PGSIZE;   // one past
    for (long i = 0; i < folio_nr_pages(folio); i++) {
      pgoff_t index = folio->index + i;
      if (index < v->pgoff || index >= vlast)
        continue;
      uint64 va = v->start + (index - v->pgoff) * PGSIZE;
      pte_t *pte = walk(v->proc->pagetable, va, 0);
      if (pte == 0 || !(*pte & PTE_V) || PTE2PA(*pte) != (uint64)folio_page_address(folio, i))
        continue;
      if (fn(folio, i, pte, arg)) {
        changed++;
        if (touched && *ntouched < NPROC)
          touched[(*ntouched)++] = v->proc;
      }
    }
  }
  return changed;
}

// Apply fn to every page-table entry that maps a page of folio; returns
// how many entries fn changed.  Then make sure no hart still uses the
// old ones.
static int
for_each_mapping(struct folio *folio, int (*fn)(struct folio *, long, pte_t *, void *))
{
  struct address_space *mapping = folio->mapping;
  struct proc *touched[NPROC];
  int ntouched = 0;

  if (mapping == 0)
    return 0;
  acquire(&mapping->i_pages_lock);
  int changed = visit_ptes(folio, fn, 0, touched, &ntouched);
  release(&mapping->i_pages_lock);
  for (int i = 0; i < ntouched; i++)
    flush_tlb_of(touched[i]);
  return changed;
}

static int
write_protect(struct folio *folio, long i, pte_t *pte, void *arg)
{
  if (!(*pte & PTE_W))
    return 0;
  *pte &= ~PTE_W;
  return 1;
}

static int
unmap_one(struct folio *folio, long i, pte_t *pte, void *arg)
{
  *pte = 0;
  folio->mapcount--;
  folio_put(folio);
  return 1;
}

static int
count_one(struct folio *folio, long i, pte_t *pte, void *arg)
{
  ((int *)arg)[i]++;
  return 0;
}

/**
 * folio_page_mapcounts - how many user page-table entries map each page
 * @folio: the folio
 * @counts: out: counts[i] for page i (zeroed first)
 *
 * For splitting a mapped large folio (split.c): the folio's mapcount is
 * the sum of these.  The caller holds folio->mapping->i_pages_lock, so
 * that no entry comes or goes meanwhile.
 */
void
folio_page_mapcounts(struct folio *folio, int *counts)
{
  for (long i = 0; i < folio_nr_pages(folio); i++)
    counts[i] = 0;
  visit_ptes(folio, count_one, counts, 0, 0);
}

/**
 * folio_mkclean - make every user mapping of a folio read-only
 * @folio: the folio, locked
 * Return: the number of entries that were writable (for a large folio,
 * entries of any of its pages).
 */
int
folio_mkclean(struct folio *folio)
{
  return for_each_mapping(folio, write_protect);
}

/**
 * folio_unmap_all - remove every user mapping of a folio
 * @folio: the folio, locked, about to leave the cache
 */
void
folio_unmap_all(struct folio *folio)
{
  for_each_mapping(folio, unmap_one);
}
