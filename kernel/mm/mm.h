// Physical pages and virtual memory.
#ifndef QUIRE_MM_H
#define QUIRE_MM_H

#include "types.h"

// kalloc.c: the physical page allocator (blocks of 2^order pages).
void kinit(void);
void *kalloc(void);
void *kzalloc(void);
void kfree(void *pa);
void *kalloc_pages(int order);
void kfree_pages(void *pa, int order);
uint64 nr_free_pages(void);
uint64 nr_total_pages(void);
uint64 nr_free_blocks(int order);

// vm.c: page tables.
void kvminit(void);
void kvminithart(void);
void kvmmap(pagetable_t kpgtbl, uint64 va, uint64 pa, uint64 sz, int perm);
pte_t *walk(pagetable_t pagetable, uint64 va, int alloc);
uint64 walkaddr(pagetable_t pagetable, uint64 va);
int mappages(pagetable_t pagetable, uint64 va, uint64 size, uint64 pa, int perm);
pagetable_t uvmcreate(void);
int uvmalloc(pagetable_t pagetable, uint64 oldsz, uint64 newsz, int xperm);
uint64 uvmdealloc(pagetable_t pagetable, uint64 oldsz, uint64 newsz);
int uvmcopy(pagetable_t old, pagetable_t new, uint64 start, uint64 end);
void uvmfree(pagetable_t pagetable, uint64 sz);
void uvmunmap(pagetable_t pagetable, uint64 va, uint64 npages, int do_free);
void uvmclear(pagetable_t pagetable, uint64 va);
int copyout(pagetable_t pagetable, uint64 dstva, const void *src, uint64 len);
int copyin(pagetable_t pagetable, void *dst, uint64 srcva, uint64 len);
int copyinstr(pagetable_t pagetable, char *dst, uint64 srcva, uint64 max);
void freewalk(pagetable_t pagetable);
int copyin_nofault(pagetable_t pagetable, void *dst, uint64 srcva, uint64 len);
int fault_in_user(uint64 va, uint64 len, int write);
int copyout_nofault(pagetable_t pagetable, uint64 dstva, const void *src, uint64 len);

// fault.c: user page faults.
int vm_fault(uint64 va, int write);

extern pagetable_t kernel_pagetable;

#endif
