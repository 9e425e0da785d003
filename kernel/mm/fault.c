// User page faults.
//
// Every page of a program, its stack and its heap is mapped when it is
// created, so a fault on them is a bug in the program.  mmap regions are
// filled in on demand: the fault handler asks mmap.c for the page.
#include "types.h"
#include "memlayout.h"
#include "uapi/errno.h"
#include "mm/mm.h"
#include "mm/mmap.h"
#include "proc/proc.h"

// Resolve a fault at user address va of the current process.  Returns 0
// when the page is now mapped with the access asked for, else -errno
// (mmap_fault says which): the process gets a fault, or the system call
// EFAULT.
int
vm_fault(uint64 va, int write)
{
  if (va >= MMAPBASE && va < MMAPTOP)
    return mmap_fault(myproc(), va, write);
  return -EFAULT;
}
