// Sv39 page tables: the kernel's address space and user address spaces.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "lib/lib.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "trap/ipi.h"
#include "mm/reclaim.h"

pagetable_t kernel_pagetable;

extern char etext[];        // end of kernel text (kernel.ld)
extern char _trampoline[];  // trampoline.S

// Build the kernel's page table: devices and RAM mapped at their physical
// addresses, the trampoline at the top, and a stack per process slot.
static pagetable_t
kvmmake(void)
{
  pagetable_t kpgtbl = kzalloc();

  kvmmap(kpgtbl, TESTDEV, TESTDEV, PGSIZE, PTE_R | PTE_W);
  kvmmap(kpgtbl, UART0, UART0, PGSIZE, PTE_R | PTE_W);
  kvmmap(kpgtbl, VIRTIO_MMIO_BASE, VIRTIO_MMIO_BASE,
         VIRTIO_MMIO_SLOTS * VIRTIO_MMIO_SIZE, PTE_R | PTE_W);
  kvmmap(kpgtbl, PLIC, PLIC, 0x4000000, PTE_R | PTE_W);
  if (sswi_base)
    kvmmap(kpgtbl, sswi_base, sswi_base, 0x4000, PTE_R | PTE_W);
  kvmmap(kpgtbl, KERNBASE, KERNBASE, (uint64)etext - KERNBASE, PTE_R | PTE_X);
  kvmmap(kpgtbl, (uint64)etext, (uint64)etext, PHYSTOP - (uint64)etext, PTE_R | PTE_W);
  kvmmap(kpgtbl, TRAMPOLINE, (uint64)_trampoline, PGSIZE, PTE_R | PTE_X);
  proc_mapstacks(kpgtbl);
  return kpgtbl;
}

void
kvminit(void)
{
  kernel_pagetable = kvmmake();
}

// Switch this hart to the kernel page table.
void
kvminithart(void)
{
  sfence_vma();   // finish stores to the page table first
  csr_write(satp, MAKE_SATP(kernel_pagetable));
  sfence_vma();   // drop stale TLB entries
}

// The address of the PTE for va, creating missing page-table pages when
// alloc is set.  Returns 0 if va is out of range or a page is missing.
pte_t *
walk(pagetable_t pagetable, uint64 va, int alloc)
{
  if (va >= MAXVA)
    return 0;
  for (int level = 2; level > 0; level--) {
    pte_t *pte = &pagetable[PX(level, va)];
    if (*pte & PTE_V) {
      pagetable = (pagetable_t)PTE2PA(*pte);
    } else {
      if (!alloc || (pagetable = kzalloc()) == 0)
        return 0;
      *pte = PA2PTE(pagetable) | PTE_V;
    }
  }
  return &pagetable[PX(0, va)];
}

// The physical address behind a user virtual address, or 0 if it is not
// mapped for user access.
uint64
walkaddr(pagetable_t pagetable, uint64 va)
{
  pte_t *pte = walk(pagetable, va, 0);

  if (pte == 0 || (*pte & PTE_V) == 0 || (*pte & PTE_U) == 0)
    return 0;
  return PTE2PA(*pte);
}

void
kvmmap(pagetable_t kpgtbl, uint64 va, uint64 pa, uint64 sz, int perm)
{
  if (mappages(kpgtbl, va, sz, pa, perm) != 0)
    panic("kvmmap");
}

// Map [va, va+size) to physical pages starting at pa.  va and size need
// not be page-aligned.  Returns -1 if a page-table page can't be allocated;
// pages mapped before the failure stay mapped.
int
mappages(pagetable_t pagetable, uint64 va, uint64 size, uint64 pa, int perm)
{
  if (size == 0)
    panic("mappages: size 0");
  uint64 a = PGROUNDDOWN(va);
  uint64 last = PGROUNDDOWN(va + size - 1);
  // A and D preset: the hardware need not set them, and we don't use them.
  perm |= PTE_A | PTE_D;
  for (;; a += PGSIZE, pa += PGSIZE) {
    pte_t *pte = walk(pagetable, a, 1);
    if (pte == 0)
      return -1;
    if (*pte & PTE_V)
      panic("mappages: remap of %p", (void *)a);
    *pte = PA2PTE(pa) | perm | PTE_V;
    if (a == last)
      return 0;
  }
}

// Remove npages of mappings starting at va, freeing the physical pages if
// do_free.  Pages that are not mapped are skipped.
void
uvmunmap(pagetable_t pagetable, uint64 va, uint64 npages, int do_free)
{
  if (va % PGSIZE)
    panic("uvmunmap: not aligned");
  for (uint64 a = va; a < va + npages * PGSIZE; a += PGSIZE) {
    pte_t *pte = walk(pagetable, a, 0);
    if (pte == 0 || (*pte & PTE_V) == 0)
      continue;
    if (PTE_FLAGS(*pte) == PTE_V)
      panic("uvmunmap: not a leaf");
    if (do_free)
      kfree((void *)PTE2PA(*pte));
    *pte = 0;
  }
}

pagetable_t
uvmcreate(void)
{
  return kzalloc();
}

// Grow user memory from oldsz to newsz with zeroed pages.  Returns 0 on
// success, -1 (with nothing left allocated) when memory runs out.
int
uvmalloc(pagetable_t pagetable, uint64 oldsz, uint64 newsz, int xperm)
{
  for (uint64 a = PGROUNDUP(oldsz); a < newsz; a += PGSIZE) {
    void *mem = kalloc_reclaim();
    if (mem)
      memset(mem, 0, PGSIZE);
    if (mem == 0 || mappages(pagetable, a, PGSIZE, (uint64)mem, PTE_R | PTE_U | xperm) != 0) {
      if (mem)
        kfree(mem);
      uvmdealloc(pagetable, a, oldsz);
      return -1;
    }
  }
  return 0;
}

// Shrink user memory from oldsz to newsz; returns the new size.
uint64
uvmdealloc(pagetable_t pagetable, uint64 oldsz, uint64 newsz)
{
  if (newsz >= oldsz)
    return oldsz;
  uint64 from = PGROUNDUP(newsz), to = PGROUNDUP(oldsz);
  if (from < to)
    uvmunmap(pagetable, from, (to - from) / PGSIZE, 1);
  return newsz;
}

// Free page-table pages.  Every leaf mapping must be gone already.
void
freewalk(pagetable_t pagetable)
{
  for (int i = 0; i < 512; i++) {
    pte_t pte = pagetable[i];
    if ((pte & PTE_V) && PTE_FLAGS(pte) == PTE_V) {
      freewalk((pagetable_t)PTE2PA(pte));
      pagetable[i] = 0;
    } else if (pte & PTE_V) {
      panic("freewalk: leaf still mapped");
    }
  }
  kfree(pagetable);
}

// Free the user memory [USERBASE, sz) and then the page table itself.
void
uvmfree(pagetable_t pagetable, uint64 sz)
{
  if (sz > USERBASE)
    uvmunmap(pagetable, USERBASE, (PGROUNDUP(sz) - USERBASE) / PGSIZE, 1);
  freewalk(pagetable);
}

// Copy the mapped pages of [start, end) from one page table into another,
// with fresh physical pages.  Returns -1 (new left partly filled; the caller
// frees it) when memory runs out.
int
uvmcopy(pagetable_t old, pagetable_t new, uint64 start, uint64 end)
{
  for (uint64 a = start; a < end; a += PGSIZE) {
    pte_t *pte = walk(old, a, 0);
    if (pte == 0 || (*pte & PTE_V) == 0)
      continue;
    void *mem = kalloc_reclaim();
    if (mem == 0)
      return -1;
    memmove(mem, (void *)PTE2PA(*pte), PGSIZE);
    if (mappages(new, a, PGSIZE, (uint64)mem, PTE_FLAGS(*pte) & ~(PTE_A | PTE_D)) != 0) {
      kfree(mem);
      return -1;
    }
  }
  return 0;
}

// Make a page inaccessible to user mode: the stack guard page.
void
uvmclear(pagetable_t pagetable, uint64 va)
{
  pte_t *pte = walk(pagetable, va, 0);

  if (pte == 0)
    panic("uvmclear");
  *pte &= ~PTE_U;
}

// The physical address of user page va, made present and (if write)
// writable: the place where user-memory faults are resolved on behalf of
// copyin/copyout.  Returns 0 for an address the process may not use.
static uint64
user_page(pagetable_t pagetable, uint64 va, int write)
{
  if (va >= MAXVA)
    return 0;
  pte_t *pte = walk(pagetable, va, 0);
  if (pte == 0 || (*pte & PTE_V) == 0 || (*pte & PTE_U) == 0 ||
      (write && (*pte & PTE_W) == 0)) {
    struct proc *p = myproc();
    if (p == 0 || p->pagetable != pagetable || vm_fault(va, write) != 0)
      return 0;
    pte = walk(pagetable, va, 0);
    if (pte == 0 || (*pte & PTE_V) == 0 || (*pte & PTE_U) == 0 ||
        (write && (*pte & PTE_W) == 0))
      return 0;
  }
  return PTE2PA(*pte);
}

// Copy len bytes between the kernel buffer kbuf and user address uva, a
// page at a time: to the user (to_user) or from it.  0, or -1 if part of
// the range is not mapped, or not writable when copying to it.
static int
copy_user(pagetable_t pagetable, uint64 uva, char *kbuf, uint64 len, int to_user)
{
  while (len > 0) {
    uint64 va0 = PGROUNDDOWN(uva);
    uint64 pa0 = user_page(pagetable, va0, to_user);
    if (pa0 == 0)
      return -1;
    uint64 n = MIN(PGSIZE - (uva - va0), len);
    char *u = (char *)(pa0 + (uva - va0));
    if (to_user)
      memmove(u, kbuf, n);
    else
      memmove(kbuf, u, n);
    len -= n;
    kbuf += n;
    uva = va0 + PGSIZE;
  }
  return 0;
}

// Copy len bytes from the kernel to user address dstva.  0 or -1.
int
copyout(pagetable_t pagetable, uint64 dstva, const void *src, uint64 len)
{
  return copy_user(pagetable, dstva, (char *)src, len, 1);
}

// Copy len bytes from user address srcva into the kernel.  0 or -1.
int
copyin(pagetable_t pagetable, void *dst, uint64 srcva, uint64 len)
{
  return copy_user(pagetable, srcva, dst, len, 0);
}

// Copy a NUL-terminated string of at most max bytes (NUL included) from
// user space.  Returns 0, -1 for a bad address, -2 if it is too long.
int
copyinstr(pagetable_t pagetable, char *dst, uint64 srcva, uint64 max)
{
  while (max > 0) {
    uint64 va0 = PGROUNDDOWN(srcva);
    uint64 pa0 = user_page(pagetable, va0, 0);
    if (pa0 == 0)
      return -1;
    uint64 n = MIN(PGSIZE - (srcva - va0), max);
    char *p = (char *)(pa0 + (srcva - va0));
    for (uint64 i = 0; i < n; i++) {
      *dst = p[i];
      if (p[i] == 0)
        return 0;
      dst++;
    }
    max -= n;
    srcva = va0 + PGSIZE;
  }
  return -2;
}

// copyin without resolving faults: -1 if any source page is not present
// and readable right now.  For copying into a locked page-cache folio,
// where resolving a fault could need that same folio.
int
copyin_nofault(pagetable_t pagetable, void *dst, uint64 srcva, uint64 len)
{
  while (len > 0) {
    uint64 va0 = PGROUNDDOWN(srcva);
    uint64 pa0 = walkaddr(pagetable, va0);
    if (pa0 == 0)
      return -1;
    uint64 n = MIN(PGSIZE - (srcva - va0), len);
    memmove(dst, (void *)(pa0 + (srcva - va0)), n);
    len -= n;
    dst = (char *)dst + n;
    srcva = va0 + PGSIZE;
  }
  return 0;
}

// Make the user pages of [va, va+len) present (and writable, if write),
// resolving faults as copyin and copyout would.  0, or -1 if some page
// can't be.
int
fault_in_user(uint64 va, uint64 len, int write)
{
  pagetable_t pagetable = myproc()->pagetable;
  uint64 end = va + len;

  if (end < va)
    return -1;
  for (uint64 a = PGROUNDDOWN(va); a < end; a += PGSIZE)
    if (user_page(pagetable, a, write) == 0)
      return -1;
  return 0;
}

// copyout without resolving faults: -1 unless every destination page is
// present and writable now.  For copying while holding a spin lock, after
// fault_in_user(..., 1) made the pages present.
int
copyout_nofault(pagetable_t pagetable, uint64 dstva, const void *src, uint64 len)
{
  while (len > 0) {
    uint64 va0 = PGROUNDDOWN(dstva);
    pte_t *pte = walk(pagetable, va0, 0);
    if (pte == 0 || !(*pte & PTE_V) || !(*pte & PTE_U) || !(*pte & PTE_W))
      return -1;
    uint64 n = MIN(PGSIZE - (dstva - va0), len);
    memmove((void *)(PTE2PA(*pte) + (dstva - va0)), src, n);
    len -= n;
    src = (const char *)src + n;
    dstva = va0 + PGSIZE;
  }
  return 0;
}
