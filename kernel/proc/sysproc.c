// System calls about processes and time.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "trap/trap.h"
#include "fs/sync.h"

int64
sys_fork(void)
{
  return fork();
}

int64
sys_exit(void)
{
  exit(argint(0));
}

int64
sys_wait(void)
{
  return wait(argaddr(0));
}

int64
sys_kill(void)
{
  int pid = argint(0);

  if (pid <= 0)
    return -ESRCH;
  return kill(pid);
}

int64
sys_getpid(void)
{
  return myproc()->pid;
}

int64
sys_getppid(void)
{
  struct proc *p = myproc();
  // The parent pointer changes only under wait_lock, but reading a stale
  // value for a debugging call is harmless: it names a process that was
  // our parent a moment ago.
  struct proc *pp = p->parent;
  return pp ? pp->pid : 0;
}

// sbrk(n): grow (or shrink) the heap by n bytes; returns the old end.
int64
sys_sbrk(void)
{
  int n = argint(0);
  uint64 old = myproc()->sz;
  int r = growproc(n);

  return r < 0 ? r : (int64)old;
}

// sleep(n): wait n clock ticks.
int64
sys_sleep(void)
{
  int n = argint(0);

  if (n < 0)
    return -EINVAL;
  acquire(&tickslock);
  uint64 start = ticks;
  while (ticks - start < (uint64)n) {
    if (killed(myproc())) {
      release(&tickslock);
      return -EINTR;
    }
    sleep(&ticks, &tickslock);
  }
  release(&tickslock);
  return 0;
}

int64
sys_uptime(void)
{
  acquire(&tickslock);
  uint64 t = ticks;
  release(&tickslock);
  return t;
}

int64
sys_uptime_ms(void)
{
  return uptime_ms();
}

// poweroff(code): write everything to the disk, then stop the machine.
// QEMU exits with status code (0 = success).
int64
sys_poweroff(void)
{
  int code = argint(0);

  if (code < 0 || code > 255)
    return -EINVAL;
  sync_filesystem();
  poweroff(code);
}
