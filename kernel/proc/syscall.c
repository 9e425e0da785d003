// System-call dispatch: the number in a7 picks the handler; arguments are
// in a0..a5 of the trapframe; the handler's result (>= 0, or -errno) goes
// back in a0.
#include "types.h"
#include "param.h"
#include "uapi/syscall.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "proc/syscall.h"

uint64
argraw(int n)
{
  struct trapframe *tf = myproc()->trapframe;

  switch (n) {
  case 0: return tf->a0;
  case 1: return tf->a1;
  case 2: return tf->a2;
  case 3: return tf->a3;
  case 4: return tf->a4;
  case 5: return tf->a5;
  }
  panic("argraw %d", n);
}

int
argint(int n)
{
  return (int)argraw(n);
}

uint64
argaddr(int n)
{
  return argraw(n);
}

// Fetch the 64-bit word at user address addr.  0 or -EFAULT.
int
fetchaddr(uint64 addr, uint64 *ip)
{
  if (copyin(myproc()->pagetable, ip, addr, sizeof(*ip)) != 0)
    return -EFAULT;
  return 0;
}

int
fetchstr(uint64 addr, char *buf, int max)
{
  int r = copyinstr(myproc()->pagetable, buf, addr, max);

  if (r == -1)
    return -EFAULT;
  if (r == -2)
    return -ENAMETOOLONG;
  return 0;
}

int
argstr(int n, char *buf, int max)
{
  return fetchstr(argaddr(n), buf, max);
}

#define SYSCALLS(X) \
  X(fork) X(exit) X(wait) X(pipe) X(read) X(kill) X(exec) X(fstat) \
  X(chdir) X(dup) X(getpid) X(sbrk) X(sleep) X(uptime) X(open) X(write) \
  X(mknod) X(unlink) X(link) X(mkdir) X(close) X(lseek) X(pread) X(pwrite) \
  X(ftruncate) X(fsync) X(fdatasync) X(sync) X(syncfs) X(sync_file_range) \
  X(mmap) X(munmap) X(msync) X(rename) X(poweroff) X(wbstat) X(dup2) \
  X(getppid) X(uptime_ms) X(sysctl) X(wbtrace) X(rawdisk) X(wbctl) \
  X(profile) X(blkhold)

#define DECLARE(name) int64 sys_##name(void);
SYSCALLS(DECLARE)

#define ENTRY(name) [SYS_##name] = sys_##name,
static int64 (*const syscalls[NSYSCALL])(void) = { SYSCALLS(ENTRY) };

void
syscall(void)
{
  struct proc *p = myproc();
  uint64 num = p->trapframe->a7;

  if (num < NSYSCALL && syscalls[num])
    p->trapframe->a0 = syscalls[num]();
  else
    p->trapframe->a0 = -ENOSYS;
}
