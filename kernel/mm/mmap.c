// Memory-mapped regions.  Not yet implemented: every mmap fault fails, and
// processes have no regions to copy or free.
#include "types.h"
#include "mm/mmap.h"
#include "proc/proc.h"
#include "uapi/errno.h"

int
mmap_fault(struct proc *p, uint64 va, int write)
{
  return -1;
}

int
mmap_fork(struct proc *parent, struct proc *child)
{
  return 0;
}

void
mmap_exit(struct proc *p)
{
}

int64
sys_mmap(void)
{
  return -ENOSYS;
}

int64
sys_munmap(void)
{
  return -ENOSYS;
}

int64
sys_msync(void)
{
  return -ENOSYS;
}
