// Processes: creation, exit, wait, and the scheduler with sleep/wakeup.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "mm/mmap.h"
#include "proc/proc.h"
#include "trap/trap.h"
#include "trap/ipi.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "fs/log.h"

struct cpu cpus[NCPU];
struct proc proc[NPROC];

static struct proc *initproc;

static int nextpid = 1;
static struct spinlock pid_lock;

// Guards every p->parent, and orders wakeups of waiting parents: take it
// before any p->lock.
static struct spinlock wait_lock;

extern char _trampoline[];

static void forkret(void);

// Allocate the kernel stacks of all process slots, each below a guard page
// that is left unmapped so that an overflow faults instead of silently
// corrupting the neighbour.
void
proc_mapstacks(pagetable_t kpgtbl)
{
  for (int i = 0; i < NPROC; i++) {
    for (int j = 0; j < KSTACK_PAGES; j++) {
      char *pa = kalloc();
      if (pa == 0)
        panic("proc_mapstacks");
      kvmmap(kpgtbl, KSTACK(i) + j * PGSIZE, (uint64)pa, PGSIZE, PTE_R | PTE_W);
    }
  }
}

void
proc_init(void)
{
  initlock(&pid_lock, "nextpid");
  initlock(&wait_lock, "wait_lock");
  for (int i = 0; i < NPROC; i++) {
    initlock(&proc[i].lock, "proc");
    proc[i].state = UNUSED;
    proc[i].kstack = KSTACK(i);
  }
}

// The hart id.  Interrupts must be off, or the process could move to
// another hart between reading tp and using the answer.
int
cpuid(void)
{
  return r_tp();
}

// The hart id, for code that only compares it (interrupts may be on).
int
cpuid_safe(void)
{
  push_off();
  int id = cpuid();
  pop_off();
  return id;
}

struct cpu *
mycpu(void)
{
  return &cpus[cpuid()];
}

// The running process: the owner of the kernel stack this code runs on.
// Every process slot has its own stack at a fixed place (KSTACK(i),
// memlayout.h), and the scheduler and early boot run on the boot stacks,
// which lie elsewhere; so the stack pointer says who we are, whichever
// hart we are on, and no interrupt can change the answer under us.
// (xv6 reads mycpu()->proc with interrupts off instead; under QEMU
// turning interrupts off and on again costs two trips out of translated
// code, and make profile showed myproc() among the kernel's top costs.)
struct proc *
myproc(void)
{
  uint64 sp = r_sp();

  if (sp > TRAMPOLINE || sp <= KSTACK(NPROC - 1))
    return 0;
  uint64 i = (TRAMPOLINE - sp) / ((KSTACK_PAGES + 1) * PGSIZE);
  return i < NPROC ? &proc[i] : 0;
}

static int
allocpid(void)
{
  acquire(&pid_lock);
  int pid = nextpid++;
  release(&pid_lock);
  return pid;
}

// Find an unused slot and make it USED, with a kernel stack and a context
// that starts in forkret.  Returns it locked, or 0 if the table is full.
static struct proc *
allocproc(void)
{
  struct proc *p;

  for (p = proc; p < &proc[NPROC]; p++) {
    acquire(&p->lock);
    if (p->state == UNUSED)
      goto found;
    release(&p->lock);
  }
  return 0;

found:
  p->pid = allocpid();
  p->state = USED;
  p->killed = 0;
  p->xstate = 0;
  p->kthread = 0;
  p->vmas = 0;
  p->wb_tagged = p->wb_written = 0;
  memset(&p->context, 0, sizeof(p->context));
  p->context.ra = (uint64)forkret;
  p->context.sp = p->kstack + KSTACK_PAGES * PGSIZE;
  return p;
}

// Give p a trapframe and an empty user page table.  0 or -ENOMEM.
static int
alloc_user(struct proc *p)
{
  if ((p->trapframe = kzalloc()) == 0)
    return -ENOMEM;
  if ((p->pagetable = proc_pagetable(p)) == 0)
    return -ENOMEM;
  return 0;
}

// Release everything a process holds but its slot; p->lock is held.
static void
freeproc(struct proc *p)
{
  if (p->trapframe)
    kfree(p->trapframe);
  p->trapframe = 0;
  if (p->pagetable)
    proc_freepagetable(p->pagetable, p->sz);
  p->pagetable = 0;
  p->sz = 0;
  p->heapbase = 0;
  p->pid = 0;
  p->parent = 0;
  p->name[0] = 0;
  p->chan = 0;
  p->killed = 0;
  p->xstate = 0;
  p->kthread = 0;
  p->state = UNUSED;
}

// A user page table with only the trampoline and the trapframe mapped.
pagetable_t
proc_pagetable(struct proc *p)
{
  pagetable_t pagetable = uvmcreate();

  if (pagetable == 0)
    return 0;
  // Neither page has PTE_U: user code can't touch them.
  if (mappages(pagetable, TRAMPOLINE, PGSIZE, (uint64)_trampoline, PTE_R | PTE_X) < 0 ||
      mappages(pagetable, TRAPFRAME, PGSIZE, (uint64)p->trapframe, PTE_R | PTE_W) < 0) {
    uvmunmap(pagetable, TRAMPOLINE, 1, 0);
    freewalk(pagetable);
    return 0;
  }
  return pagetable;
}

void
proc_freepagetable(pagetable_t pagetable, uint64 sz)
{
  uvmunmap(pagetable, TRAMPOLINE, 1, 0);
  uvmunmap(pagetable, TRAPFRAME, 1, 0);
  uvmfree(pagetable, sz);
}

// The first user process.  Its forkret() execs /init.
void
userinit(void)
{
  struct proc *p = allocproc();

  if (p == 0 || alloc_user(p) != 0)
    panic("userinit");
  initproc = p;
  safestrcpy(p->name, "init", sizeof(p->name));
  p->state = RUNNABLE;
  release(&p->lock);
}

// A kernel thread: runs fn(arg) in the kernel with its own stack, sharing
// the kernel's address space; when fn returns, the thread exits.  Returns
// 0 when the process table is full.
struct proc *
kthread_create(const char *name, void (*fn)(void *), void *arg)
{
  struct proc *p = allocproc();

  if (p == 0)
    return 0;
  p->kthread = 1;
  safestrcpy(p->name, name, sizeof(p->name));
  p->kfn = fn;
  p->karg = arg;
  p->parent = initproc;
  p->state = RUNNABLE;
  release(&p->lock);
  return p;
}

// Grow or shrink the heap by n bytes.  0, or -ENOMEM.
int
growproc(int64 n)
{
  struct proc *p = myproc();
  uint64 sz = p->sz;

  if (n > 0) {
    if (sz + n > MMAPBASE || sz + n < sz)
      return -ENOMEM;
    if (uvmalloc(p->pagetable, sz, sz + n, PTE_W) != 0)
      return -ENOMEM;
    p->sz = sz + n;
  } else if (n < 0) {
    if ((uint64)-n > sz - p->heapbase)
      return -EINVAL;
    p->sz = uvmdealloc(p->pagetable, sz, sz + n);
  }
  return 0;
}

// Create a child that is a copy of the calling process.  Returns the
// child's pid in the parent and 0 in the child, or -errno.
int
fork(void)
{
  struct proc *np, *p = myproc();

  if ((np = allocproc()) == 0)
    return -EAGAIN;
  // The copying below may sleep (for memory), so not under np->lock; the
  // new process is USED, not RUNNABLE, so nothing else runs or frees it.
  release(&np->lock);
  np->sz = p->sz;
  if (alloc_user(np) != 0 ||
      uvmcopy(p->pagetable, np->pagetable, USERBASE, p->sz) != 0 ||
      mmap_fork(p, np) != 0) {
    mmap_exit(np);
    acquire(&np->lock);
    freeproc(np);
    release(&np->lock);
    return -ENOMEM;
  }
  np->heapbase = p->heapbase;
  *np->trapframe = *p->trapframe;
  np->trapframe->a0 = 0;   // fork returns 0 in the child

  for (int i = 0; i < NOFILE; i++)
    if (p->ofile[i])
      np->ofile[i] = filedup(p->ofile[i]);
  np->cwd = idup(p->cwd);
  safestrcpy(np->name, p->name, sizeof(p->name));
  int pid = np->pid;

  acquire(&wait_lock);
  np->parent = p;
  release(&wait_lock);

  acquire(&np->lock);
  np->state = RUNNABLE;
  release(&np->lock);
  return pid;
}

// Give p's children to init.  wait_lock is held.
static void
reparent(struct proc *p)
{
  for (struct proc *pp = proc; pp < &proc[NPROC]; pp++) {
    if (pp->parent == p) {
      pp->parent = initproc;
      wakeup(initproc);
    }
  }
}

// End the calling process.  It stays a ZOMBIE until its parent waits.
void
exit(int status)
{
  struct proc *p = myproc();

  if (p == initproc)
    panic("init exiting");

  for (int fd = 0; fd < NOFILE; fd++) {
    if (p->ofile[fd]) {
      fileclose(p->ofile[fd]);
      p->ofile[fd] = 0;
    }
  }
  mmap_exit(p);
  if (p->cwd) {   // kernel threads have none
    begin_op();
    iput(p->cwd);
    end_op();
    p->cwd = 0;
  }

  acquire(&wait_lock);
  reparent(p);
  wakeup(p->parent);
  acquire(&p->lock);
  p->xstate = status;
  p->state = ZOMBIE;
  release(&wait_lock);

  sched();
  panic("zombie exit");
}

// Wait for a child to exit; store its status at user address addr unless
// addr is 0.  Returns its pid, -ECHILD, -EFAULT or -EINTR.
int
wait(uint64 addr)
{
  struct proc *p = myproc();

  // The status is copied out while holding spin locks, where a page fault
  // (an mmap page) can't be served: make the page present first.
  if (addr != 0 && fault_in_user(addr, sizeof(int), 1) < 0)
    return -EFAULT;
  acquire(&wait_lock);
  for (;;) {
    int havekids = 0;
    for (struct proc *pp = proc; pp < &proc[NPROC]; pp++) {
      if (pp->parent != p || pp->kthread)
        continue;
      acquire(&pp->lock);
      havekids = 1;
      if (pp->state == ZOMBIE) {
        int pid = pp->pid;
        if (addr != 0 &&
            copyout_nofault(p->pagetable, addr, &pp->xstate, sizeof(pp->xstate)) < 0) {
          release(&pp->lock);
          release(&wait_lock);
          return -EFAULT;
        }
        freeproc(pp);
        release(&pp->lock);
        release(&wait_lock);
        return pid;
      }
      release(&pp->lock);
    }
    if (!havekids) {
      release(&wait_lock);
      return -ECHILD;
    }
    if (killed(p)) {
      release(&wait_lock);
      return -EINTR;
    }
    sleep(p, &wait_lock);
  }
}

// Each hart runs this loop forever: pick a RUNNABLE process, run it until
// it gives the hart back, repeat.  With nothing to run, the hart waits for
// an interrupt (wfi) instead of spinning, so idle harts cost the host no CPU.
void
scheduler(void)
{
  struct cpu *c = mycpu();

  c->proc = 0;
  for (;;) {
    // Interrupts on, so a device can wake a sleeper; then off again while
    // choosing, so that no interrupt finds a half-switched hart.
    intr_on();
    intr_off();
    // Idle from before the scan: a wakeup that comes after the scan saw
    // nothing will see the flag and interrupt this hart out of wfi.
    __atomic_store_n(&c->idle, 1, __ATOMIC_SEQ_CST);
    int ran = 0;
    for (struct proc *p = proc; p < &proc[NPROC]; p++) {
      acquire(&p->lock);
      if (p->state == RUNNABLE) {
        c->idle = 0;
        p->state = RUNNING;
        c->proc = p;
        swtch(&c->context, &p->context);
        c->proc = 0;
        ran = 1;
      }
      release(&p->lock);
    }
    if (!ran)
      asm volatile("wfi");
    c->idle = 0;
  }
}

// Switch from the current process to this hart's scheduler.  The caller
// holds exactly p->lock and has changed p->state.  intena belongs to the
// kernel thread, not the hart, so it is saved across the switch.
void
sched(void)
{
  struct proc *p = myproc();

  if (!holding(&p->lock))
    panic("sched: p->lock not held");
  if (mycpu()->noff != 1)
    panic("sched: holding locks (noff %d)", mycpu()->noff);
  if (p->state == RUNNING)
    panic("sched: still RUNNING");
  if (intr_get())
    panic("sched: interrupts on");

  int intena = mycpu()->intena;
  swtch(&p->context, &mycpu()->context);
  mycpu()->intena = intena;
}

// Give up the hart for one round of scheduling.
void
yield(void)
{
  struct proc *p = myproc();

  acquire(&p->lock);
  p->state = RUNNABLE;
  sched();
  release(&p->lock);
}

// The first code a new process or kernel thread runs, still holding the
// p->lock that the scheduler took.
static void
forkret(void)
{
  static int first = 1;
  struct proc *p = myproc();

  release(&p->lock);

  if (p->kthread) {
    // A kernel thread whose function returns exits like a process; init,
    // its parent, collects it.
    p->kfn(p->karg);
    exit(0);
  }

  if (first) {
    // The file system must be mounted by a process, because reading the
    // disk sleeps; the first process does it before it execs /init.
    first = 0;
    fs_mount(ROOTDEV);
    flusher_start();
    log_start_committer();
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    p->cwd = namei("/");
    char *argv[] = { "/init", 0 };
    int r = kernel_execve("/init", argv);
    if (r < 0) {
      // A missing /init, or a disk that fails its reads: nothing can run.
      printf("cannot run /init (error %d); powering off\n", -r);
      poweroff(1);
    }
    p->trapframe->a0 = r;
  }
  usertrapret();
}

// Sleep on chan, releasing lk while asleep and taking it again before
// returning.  The state becomes SLEEPING, under p->lock, before lk is let
// go: a waker must hold lk to change the condition, so by the time it can
// call wakeup() the sleeper is visibly asleep (see wakeup).
void
sleep(void *chan, struct spinlock *lk)
{
  struct proc *p = myproc();

  acquire(&p->lock);
  p->chan = chan;
  p->state = SLEEPING;
  release(lk);
  sched();
  p->chan = 0;
  release(&p->lock);
  acquire(lk);
}

// Wake every process sleeping on chan.  The caller may hold the lock that
// the sleepers passed to sleep(), but not any p->lock.
//
// Most calls find nobody asleep on chan, so the scan first looks without
// taking locks and locks only a likely sleeper; a process that is going
// to sleep on chan already shows it (see sleep).
void
wakeup(void *chan)
{
  struct proc *self = myproc();

  for (struct proc *p = proc; p < &proc[NPROC]; p++) {
    if (p == self || __atomic_load_n(&p->chan, __ATOMIC_ACQUIRE) != chan ||
        __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != SLEEPING)
      continue;
    acquire(&p->lock);
    int woke = p->state == SLEEPING && p->chan == chan;
    if (woke)
      p->state = RUNNABLE;
    release(&p->lock);
    if (woke)
      ipi_wake_idle();
  }
}

// Mark process pid to be killed.  It exits when it next returns to user
// mode or checks killed() in a wait.  0, or -ESRCH.
int
kill(int pid)
{
  for (struct proc *p = proc; p < &proc[NPROC]; p++) {
    acquire(&p->lock);
    if (p->pid == pid && p->state != UNUSED && !p->kthread) {
      p->killed = 1;
      if (p->state == SLEEPING)
        p->state = RUNNABLE;
      release(&p->lock);
      return 0;
    }
    release(&p->lock);
  }
  return -ESRCH;
}

void
setkilled(struct proc *p)
{
  acquire(&p->lock);
  p->killed = 1;
  release(&p->lock);
}

int
killed(struct proc *p)
{
  acquire(&p->lock);
  int k = p->killed;
  release(&p->lock);
  return k;
}

// Copy to a user address (user_dst) or a kernel address.  0 or -1.
int
either_copyout(int user_dst, uint64 dst, void *src, uint64 len)
{
  if (user_dst)
    return copyout(myproc()->pagetable, dst, src, len);
  memmove((void *)dst, src, len);
  return 0;
}

// Copy from a user address (user_src) or a kernel address.  0 or -1.
int
either_copyin(void *dst, int user_src, uint64 src, uint64 len)
{
  if (user_src)
    return copyin(myproc()->pagetable, dst, src, len);
  memmove(dst, (void *)src, len);
  return 0;
}

// List the processes on the console (^P).  Takes no locks, so that it
// works even when the kernel is stuck.
void
procdump(void)
{
  static const char *names[] = {
    [UNUSED] "unused", [USED] "used", [SLEEPING] "sleep",
    [RUNNABLE] "runble", [RUNNING] "run", [ZOMBIE] "zombie",
  };

  printf("\n");
  for (struct proc *p = proc; p < &proc[NPROC]; p++) {
    if (p->state == UNUSED)
      continue;
    printf("%d %s %s%s", p->pid, names[p->state], p->name,
           p->kthread ? " [kthread]" : "");
    if (p->state == SLEEPING) {
      // Where it sleeps: the channel, and the return addresses on its
      // kernel stack (look them up with addr2line -e kernel/kernel).
      printf(" chan %p:", p->chan);
      uint64 fp = p->context.s[0];
      uint64 lo = p->kstack, hi = p->kstack + KSTACK_PAGES * PGSIZE;
      for (int depth = 0; depth < 12 && fp > lo + 16 && fp <= hi; depth++) {
        printf(" %p", (void *)*(uint64 *)(fp - 8));
        fp = *(uint64 *)(fp - 16);
      }
    }
    printf("\n");
  }
}
