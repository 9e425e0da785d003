// Memory-mapped regions (mmap, munmap, msync).
#ifndef QUIRE_MMAP_H
#define QUIRE_MMAP_H

#include "types.h"

struct proc;

int mmap_fault(struct proc *p, uint64 va, int write);
int mmap_fork(struct proc *parent, struct proc *child);
void mmap_exit(struct proc *p);

#endif
