// Reverse mapping: from a page-cache folio to the user page-table entries
// that map it, through the MAP_SHARED regions on its mapping's i_mmap list.
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

// Apply fn to every page-table entry that maps folio; returns how many
// entries fn changed.  Then make sure no hart still uses the old ones.
static int
for_each_mapping(struct folio *folio, int (*fn)(struct folio *, pte_t *))
{
  struct address_space *mapping = folio->mapping;
  struct proc *touched[NPROC];
  int ntouched = 0, changed = 0;

  if (mapping == 0)
    return 0;
  acquire(&mapping->i_pages_lock);
  struct vma *v;
  list_for_each_entry(v, &mapping->i_mmap, shared) {
    if (folio->index < v->pgoff || folio->index >= v->pgoff + (v->end - v->start) / PGSIZE)
      continue;
    uint64 va = v->start + (folio->index - v->pgoff) * PGSIZE;
    pte_t *pte = walk(v->proc->pagetable, va, 0);
    if (pte == 0 || !(*pte & PTE_V) || PTE2PA(*pte) != (uint64)folio_address(folio))
      continue;
    if (fn(folio, pte)) {
      changed++;
      if (ntouched < NPROC)
        touched[ntouched++] = v->proc;
    }
  }
  release(&mapping->i_pages_lock);
  for (int i = 0; i < ntouched; i++)
    flush_tlb_of(touched[i]);
  return changed;
}

static int
write_protect(struct folio *folio, pte_t *pte)
{
  if (!(*pte & PTE_W))
    return 0;
  *pte &= ~PTE_W;
  return 1;
}

static int
unmap_one(struct folio *folio, pte_t *pte)
{
  *pte = 0;
  folio->mapcount--;
  folio_put(folio);
  return 1;
}

/**
 * folio_mkclean - make every user mapping of a folio read-only
 * @folio: the folio, locked
 * Return: the number of entries that were writable.
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
