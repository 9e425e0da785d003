// profile(2): a sampling profiler of the kernel.  See uapi/profile.h.
//
// Supervisor mode cannot see where the kernel spends its time with
// interrupts off (a spin lock held, a trap being handled), because its own
// timer waits until interrupts are on again.  So the sampler runs in
// machine mode: start() sends machine traps to profvec.S and enables the
// machine timer on every hart, with its compare register at "never".
// PROF_START sets each hart's mtimecmp through the CLINT; each time it
// fires, profile_mtrap() records where the hart was and sets the next one.
//
// Machine mode runs without paging, so the sampler reads kernel stacks by
// walking the supervisor page table by hand (m_translate), and never
// follows a pointer it has not checked: a fault in machine mode would
// have nowhere to go.
//
// The samples go to pages allocated at PROF_START (at most PROF_PAGES:
// 2 MiB, taken from the page cache while the profile lasts).  An idle
// hart (in the scheduler's wfi) is counted, not stored.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "uapi/errno.h"
#include "uapi/profile.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "debug/debug.h"

// The machine timer of QEMU's virt machine (ACLINT MTIMER).
#define MTIMECMP_BASE 0x2004000L
#define MTIMECMP(hart) (MTIMECMP_BASE + 8 * (hart))

#define PROF_PAGES    512
#define PER_PAGE      (PGSIZE / sizeof(struct prof_sample))
#define MSTACK_SIZE   1024
#define WFI           0x10500073
#define MCAUSE_MTIMER ((1UL << 63) | 7)

extern char etext[];

static struct {
  struct spinlock lock;          // PROF_START/STOP/READ against each other
  int on;                        // the sampler takes samples while set
  uint64 interval;               // ticks between samples
  struct prof_sample *pages[PROF_PAGES];
  uint64 npages;
  uint64 next;                   // samples claimed (may pass the capacity)
  uint64 idle;                   // samples of idle harts, counted only
  uint64 handler_ticks;
  uint64 hz, start_ticks, stop_ticks;
  uint64 harts;                  // bit h: hart h exists (profile_mstart)
} prof;

// Machine-mode stacks, one per hart; mscratch points at the top of each.
static char mstack[NCPU][MSTACK_SIZE] __attribute__((aligned(16)));

void profvec(void);

/**
 * profile_mstart - prepare a hart for the profiler (machine mode)
 *
 * Called from start() on each hart before it drops to supervisor mode.
 * The machine timer stays silent until PROF_START.
 */
void
profile_mstart(uint64 hart)
{
  *(volatile uint64 *)MTIMECMP(hart) = ~0UL;
  __atomic_fetch_or(&prof.harts, 1UL << hart, __ATOMIC_RELAXED);
  csr_write(mscratch, (uint64)&mstack[hart][MSTACK_SIZE]);
  csr_write(mtvec, (uint64)profvec);
  csr_set(mie, 1UL << 7);   // MTIE
}

// A supervisor virtual address to a physical one, by walking the page
// table in satp by hand.  0 if not mapped or not plain RAM.
static uint64
m_translate(uint64 va)
{
  uint64 satp = csr_read(satp);
  uint64 pa = va;

  if (satp >> 60) {
    pagetable_t pt = (pagetable_t)((satp & ((1UL << 44) - 1)) << PGSHIFT);
    if (va >= MAXVA)
      return 0;
    for (int level = 2; ; level--) {
      pte_t pte = pt[PX(level, va)];
      if (!(pte & PTE_V))
        return 0;
      if (pte & (PTE_R | PTE_X)) {
        pa = PTE2PA(pte) + (va & ((1UL << PXSHIFT(level)) - 1));
        break;
      }
      if (level == 0)
        return 0;
      pt = (pagetable_t)PTE2PA(pte);
      if ((uint64)pt < KERNBASE || (uint64)pt >= PHYSTOP)
        return 0;
    }
  }
  if (pa < KERNBASE || pa + 8 > PHYSTOP)
    return 0;
  return pa;
}

static int
kernel_text(uint64 pc)
{
  return pc >= KERNBASE && pc < (uint64)etext;
}

// Follow the frame-pointer chain from fp: the return address of a frame
// is at fp-8, the caller's frame pointer at fp-16.  A leaf function (one
// that calls nothing) saves only the caller's frame pointer, at fp-8, and
// keeps its return address in ra: that is the first caller then.
static void
m_backtrace(struct prof_sample *s, uint64 fp, uint64 ra)
{
  int i = 1;
  uint64 slot = fp % 8 == 0 ? m_translate(fp - 8) : 0;

  if (slot && !kernel_text(*(uint64 *)slot) && *(uint64 *)slot > fp && kernel_text(ra)) {
    s->pc[i++] = ra;
    fp = *(uint64 *)slot;
  }
  for (; i < PROF_DEPTH; i++) {
    if (fp % 8 != 0)
      return;
    uint64 ra = m_translate(fp - 8), up = m_translate(fp - 16);
    if (ra == 0 || up == 0)
      return;
    uint64 pc = *(uint64 *)ra, next = *(uint64 *)up;
    if (!kernel_text(pc))
      return;
    s->pc[i] = pc;
    if (next <= fp)     // callers' frames lie above
      return;
    fp = next;
  }
}

static struct prof_sample *
m_claim(void)
{
  uint64 n = __atomic_fetch_add(&prof.next, 1, __ATOMIC_RELAXED);

  if (n >= prof.npages * PER_PAGE)
    return 0;
  return &prof.pages[n / PER_PAGE][n % PER_PAGE];
}

static void
m_sample(uint64 fp, uint64 ra)
{
  uint64 pc = csr_read(mepc);
  int user = (csr_read(mstatus) & MSTATUS_MPP_MASK) == 0;

  if (!user && kernel_text(pc - 4) && *(uint32 *)(pc - 4) == WFI) {
    __atomic_fetch_add(&prof.idle, 1, __ATOMIC_RELAXED);
    return;
  }
  struct prof_sample *s = m_claim();
  if (s == 0)
    return;
  memset(s, 0, sizeof(*s));
  s->hart = csr_read(mhartid);
  s->mode = user ? PROF_MODE_USER : PROF_MODE_KERNEL;
  s->pc[0] = pc;
  if (!user)
    m_backtrace(s, fp, ra);
}

/**
 * profile_mtrap - the machine timer fired (machine mode, from profvec.S)
 * @fp: the interrupted code's frame pointer
 * @ra: its return-address register
 */
void
profile_mtrap(uint64 fp, uint64 ra)
{
  uint64 t0 = r_time(), hart = csr_read(mhartid);

  if (csr_read(mcause) != MCAUSE_MTIMER || !__atomic_load_n(&prof.on, __ATOMIC_ACQUIRE)) {
    *(volatile uint64 *)MTIMECMP(hart) = ~0UL;
    return;
  }
  m_sample(fp, ra);
  *(volatile uint64 *)MTIMECMP(hart) = r_time() + prof.interval;
  __atomic_fetch_add(&prof.handler_ticks, r_time() - t0, __ATOMIC_RELAXED);
}

void
profile_init(void)
{
  initlock(&prof.lock, "prof");
  // The compare registers, so that PROF_START can arm every hart's timer.
  kvmmap(kernel_pagetable, MTIMECMP_BASE, MTIMECMP_BASE, PGSIZE, PTE_R | PTE_W);
  sfence_vma();
}

static void
free_pages(void)
{
  for (uint64 i = 0; i < prof.npages; i++)
    kfree(prof.pages[i]);
  prof.npages = 0;
}

static int64
prof_start(uint64 hz)
{
  if (prof.on)
    return -EBUSY;
  free_pages();
  while (prof.npages < PROF_PAGES && (prof.pages[prof.npages] = kalloc()) != 0)
    prof.npages++;
  if (prof.npages == 0)
    return -ENOMEM;
  prof.hz = hz ? hz : PROF_HZ;
  prof.interval = MAX(10000000 / prof.hz, 100);   // the timebase is 10 MHz
  prof.next = prof.idle = prof.handler_ticks = 0;
  prof.start_ticks = r_time();
  __atomic_store_n(&prof.on, 1, __ATOMIC_RELEASE);
  for (int hart = 0; hart < NCPU; hart++)
    if (prof.harts & (1UL << hart))
      *(volatile uint64 *)MTIMECMP(hart) = r_time() + prof.interval;
  return 0;
}

static uint64
taken(void)
{
  return MIN(prof.next, prof.npages * PER_PAGE);
}

static int64
prof_read(uint64 first, uint64 buf, uint64 n)
{
  uint64 done = 0;

  for (; done < n && first + done < taken(); done++) {
    uint64 i = first + done;
    if (copyout(myproc()->pagetable, buf + done * sizeof(struct prof_sample),
                (char *)&prof.pages[i / PER_PAGE][i % PER_PAGE],
                sizeof(struct prof_sample)) < 0)
      return -EFAULT;
  }
  return done;
}

static int64
prof_info(uint64 buf)
{
  struct prof_info info = {
    .samples = taken(), .dropped = prof.next - taken(), .hz = prof.hz,
    .handler_ticks = prof.handler_ticks, .start_ticks = prof.start_ticks,
    .stop_ticks = prof.on ? r_time() : prof.stop_ticks, .idle = prof.idle,
  };
  return copyout(myproc()->pagetable, buf, (char *)&info, sizeof(info)) < 0 ? -EFAULT : 0;
}

int64
sys_profile(void)
{
  int op = argint(0);
  uint64 a = argraw(1), buf = argaddr(2), n = argraw(3);
  int64 r = -EINVAL;

  acquire(&prof.lock);
  if (op == PROF_START) {
    r = prof_start(a);
  } else if (op == PROF_STOP) {
    if (prof.on)
      prof.stop_ticks = r_time();
    __atomic_store_n(&prof.on, 0, __ATOMIC_RELEASE);
    r = taken();
  } else if (op == PROF_READ && !prof.on) {
    r = prof_read(a, buf, n);
  } else if (op == PROF_INFO) {
    r = prof_info(buf);
  }
  release(&prof.lock);
  return r;
}
