// Processes, harts, and the scheduler.
#ifndef QUIRE_PROC_H
#define QUIRE_PROC_H

#include "types.h"
#include "param.h"
#include "lib/spinlock.h"

// Registers saved by swtch() when a kernel thread of control gives up its
// hart: only the callee-saved ones, because swtch is called like a function.
struct context {
  uint64 ra;
  uint64 sp;
  uint64 s[12];   // s0..s11
};

// Per-hart state.
struct cpu {
  struct proc *proc;       // running on this hart, or 0
  struct context context;  // swtch() here to enter the scheduler
  int noff;                // depth of push_off() nesting
  int intena;              // were interrupts on before push_off()?
  // For TLB shootdown by waiting (mm/rmap.c): the hart runs user code,
  // and counts its traps from user mode; each trap flushes its TLB.
  int in_user;
  uint64 user_traps;
  int in_intr;             // handling a device interrupt (trace pid 0)
  int idle;                // looking for work, or waiting in wfi (ipi.c)
};

extern struct cpu cpus[NCPU];

// The page at TRAPFRAME in a process's address space.  The trampoline
// saves every user register here on a trap and restores them on the way
// back; the first five fields tell it how to enter the kernel.
struct trapframe {
  /*   0 */ uint64 kernel_satp;   // kernel page table
  /*   8 */ uint64 kernel_sp;     // top of this process's kernel stack
  /*  16 */ uint64 kernel_trap;   // usertrap()
  /*  24 */ uint64 epc;           // user pc
  /*  32 */ uint64 kernel_hartid; // tp for the kernel
  /*  40 */ uint64 ra;
  /*  48 */ uint64 sp;
  /*  56 */ uint64 gp;
  /*  64 */ uint64 tp;
  /*  72 */ uint64 t0;
  /*  80 */ uint64 t1;
  /*  88 */ uint64 t2;
  /*  96 */ uint64 s0;
  /* 104 */ uint64 s1;
  /* 112 */ uint64 a0;
  /* 120 */ uint64 a1;
  /* 128 */ uint64 a2;
  /* 136 */ uint64 a3;
  /* 144 */ uint64 a4;
  /* 152 */ uint64 a5;
  /* 160 */ uint64 a6;
  /* 168 */ uint64 a7;
  /* 176 */ uint64 s2;
  /* 184 */ uint64 s3;
  /* 192 */ uint64 s4;
  /* 200 */ uint64 s5;
  /* 208 */ uint64 s6;
  /* 216 */ uint64 s7;
  /* 224 */ uint64 s8;
  /* 232 */ uint64 s9;
  /* 240 */ uint64 s10;
  /* 248 */ uint64 s11;
  /* 256 */ uint64 t3;
  /* 264 */ uint64 t4;
  /* 272 */ uint64 t5;
  /* 280 */ uint64 t6;
};

enum procstate { UNUSED, USED, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

struct file;
struct inode;
struct vma;

// A process, or a kernel thread (kthread != 0: no user memory, never
// returns to user mode).
struct proc {
  struct spinlock lock;

  // Protected by lock:
  enum procstate state;
  void *chan;              // what a SLEEPING process waits for
  int killed;              // exit at the next chance
  int xstate;              // exit status, for the parent's wait()
  int pid;

  // Protected by wait_lock (proc.c):
  struct proc *parent;

  // Private to the process itself:
  uint64 kstack;           // bottom of the kernel stack
  uint64 sz;               // user memory [USERBASE, sz) is the program and heap
  uint64 heapbase;         // lowest address sbrk may shrink to
  pagetable_t pagetable;   // user page table
  struct trapframe *trapframe;
  struct context context;  // swtch() here to run the process
  struct file *ofile[NOFILE];
  struct inode *cwd;
  struct vma *vmas;        // mmap regions (mm/mmap.c)
  uint64 wb_tagged;        // folios this process tagged TOWRITE, ever
  uint64 wb_written;       // folios whose writeback this process started
  int op_reserved;         // log blocks this process's operation reserved
  int op_added;            // ... and has added so far (fs/log.c)
  int kthread;
  void (*kfn)(void *);     // a kernel thread's function and argument
  void *karg;
  char name[16];
};

extern struct proc proc[NPROC];

int cpuid(void);
int cpuid_safe(void);
struct cpu *mycpu(void);
struct proc *myproc(void);
void proc_init(void);
void userinit(void);
void scheduler(void) __attribute__((noreturn));
void sched(void);
void yield(void);
void sleep(void *chan, struct spinlock *lk);
void wakeup(void *chan);
int fork(void);
void exit(int status) __attribute__((noreturn));
int wait(uint64 addr);
int kill(int pid);
int killed(struct proc *p);
void setkilled(struct proc *p);
int growproc(int64 n);
pagetable_t proc_pagetable(struct proc *p);
void proc_freepagetable(pagetable_t pagetable, uint64 sz);
void proc_mapstacks(pagetable_t kpgtbl);
void procdump(void);
struct proc *kthread_create(const char *name, void (*fn)(void *), void *arg);
int either_copyout(int user_dst, uint64 dst, void *src, uint64 len);
int either_copyin(void *dst, int user_src, uint64 src, uint64 len);

// swtch.S
void swtch(struct context *old, struct context *new);

// exec.c
int kernel_execve(const char *path, char **argv);

#endif
