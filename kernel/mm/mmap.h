// Memory-mapped regions (mmap, munmap, msync).
#ifndef QUIRE_MMAP_H
#define QUIRE_MMAP_H

#include "types.h"
#include "lib/list.h"

struct proc;
struct file;

// One mmap region of a process: [start, end) of its address space.
//
// An anonymous region holds zero-filled private pages.  A file region shows
// the file from page pgoff on.  MAP_PRIVATE file pages are private copies
// made at the first touch, so stores never reach the file.  MAP_SHARED
// file pages are the page-cache folios themselves: stores go straight into
// the cache and writeback takes them to the disk; such a region is also on
// its file's mapping->i_mmap list, so that writeback and truncate can find
// the page-table entries that map a folio (rmap.c).
//
// A region's page-table entries and its start/end change only under its
// file's i_pages_lock, for MAP_SHARED file regions (rmap.c reads them
// from other processes); otherwise only its own process touches them.
struct vma {
  uint64 start, end;
  int prot;                 // PROT_READ, PROT_WRITE, PROT_EXEC
  int flags;                // MAP_SHARED or MAP_PRIVATE, MAP_ANONYMOUS
  struct file *file;        // a reference, or 0 for anonymous memory
  pgoff_t pgoff;            // file page shown at start
  struct proc *proc;        // the owner
  struct vma *next;         // the owner's regions, by address
  struct list_head shared;  // on mapping->i_mmap (MAP_SHARED file regions)
};

void mmap_init(void);
int mmap_fault(struct proc *p, uint64 va, int write);
int mmap_fork(struct proc *parent, struct proc *child);
void mmap_exit(struct proc *p);
int vma_is_shared_file(struct vma *vma);

#endif
