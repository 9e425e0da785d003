// Trap handling: system calls, device interrupts, timer, and faults, from
// user mode (usertrap) and from supervisor mode (kerneltrap).
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "trap/trap.h"
#include "dev/console.h"
#include "dev/virtio_blk.h"

struct spinlock tickslock;
uint64 ticks;

// Timer interval in time-CSR units: QEMU's virt clock runs at 10 MHz.
#define TIMEBASE_HZ 10000000UL
#define TICK_INTERVAL (TIMEBASE_HZ / TICK_HZ)

extern char trampoline[], uservec[], userret[];
void kernelvec(void);

void
trapinit(void)
{
  initlock(&tickslock, "ticks");
}

void
trapinithart(void)
{
  csr_write(stvec, (uint64)kernelvec);
  // User programs may read the time register (rdtime) for fine timing.
  csr_set(scounteren, COUNTEREN_TM);
}

uint64
uptime_ms(void)
{
  return r_time() / (TIMEBASE_HZ / 1000);
}

uint64
uptime_us(void)
{
  return r_time() / (TIMEBASE_HZ / 1000000);
}

// A timer interrupt.  ticks is computed from the time register rather
// than counted, so that it keeps step with real time even when a hart's
// interrupts come late (QEMU's harts are host threads, and a busy host
// delays them); every hart may advance it.
static void
clockintr(void)
{
  uint64 now = r_time() / TICK_INTERVAL;

  acquire(&tickslock);
  if (now > ticks) {
    ticks = now;
    wakeup(&ticks);
  }
  release(&tickslock);
  // The next tick boundary.  Writing stimecmp also clears the pending
  // timer interrupt.
  csr_write(stimecmp, (now + 1) * TICK_INTERVAL);
}

// Handle a device or timer interrupt.  Returns 2 for the timer, 1 for
// another device, 0 if the trap was not an interrupt we know.
static int
devintr(void)
{
  uint64 scause = csr_read(scause);

  if (scause == SCAUSE_S_EXTERNAL) {
    mycpu()->in_intr++;
    int irq = plic_claim();
    if (irq == UART0_IRQ)
      uart_intr();
    else if (irq >= VIRTIO_IRQ(0) && irq < VIRTIO_IRQ(VIRTIO_MMIO_SLOTS))
      virtio_blk_intr(irq);
    else if (irq)
      printf("devintr: unexpected irq %d\n", irq);
    if (irq)
      plic_complete(irq);
    mycpu()->in_intr--;
    return 1;
  }
  if (scause == SCAUSE_S_TIMER) {
    clockintr();
    return 2;
  }
  if (scause == SCAUSE_S_SOFTWARE) {
    // Another hart woke this one (ipi.c): the wakeup itself is all.
    csr_clear(sip, SIE_SSIE);
    return 3;
  }
  return 0;
}

static const char *
cause_name(uint64 scause)
{
  switch (scause) {
  case 0: return "instruction misaligned";
  case 1: return "instruction access fault";
  case 2: return "illegal instruction";
  case 3: return "breakpoint";
  case 4: return "load misaligned";
  case 5: return "load access fault";
  case 6: return "store misaligned";
  case 7: return "store access fault";
  case SCAUSE_INSN_PAGE_FAULT: return "instruction page fault";
  case SCAUSE_LOAD_PAGE_FAULT: return "load page fault";
  case SCAUSE_STORE_PAGE_FAULT: return "store page fault";
  default: return "unknown trap";
  }
}

// Why a page fault could not be served, beyond the program's own mistake.
static const char *
fault_why(int err)
{
  switch (err) {
  case -EIO: return ": the disk failed to read the page (a bus error)";
  case -ENOSPC: return ": no disk space for the page stored to";
  case -EROFS: return ": the file system is read-only";
  case -ENOMEM: return ": out of memory";
  default: return "";
  }
}

// A user program did something it may not, or touched a page that could
// not be served (err): report it and kill it.
static void
user_fault(struct proc *p, uint64 scause, uint64 stval, int err)
{
  printf("pid %d %s: %s at pc %p, address %p%s; killed\n", p->pid, p->name,
         cause_name(scause), (void *)p->trapframe->epc, (void *)stval, fault_why(err));
  setkilled(p);
}

// A trap from user mode, entered from uservec in the trampoline.
void
usertrap(void)
{
  if (csr_read(sstatus) & SSTATUS_SPP)
    panic("usertrap: not from user mode");

  // Traps from now on are kernel traps.
  csr_write(stvec, (uint64)kernelvec);
  // uservec switched to the kernel page table, which flushed this hart's
  // TLB of the user's entries (see rmap.c).
  mycpu()->in_user = 0;
  __atomic_fetch_add(&mycpu()->user_traps, 1, __ATOMIC_SEQ_CST);

  struct proc *p = myproc();
  p->trapframe->epc = csr_read(sepc);
  uint64 scause = csr_read(scause);
  uint64 stval = csr_read(stval);   // read before an interrupt replaces it
  int which = 0;

  if (scause == SCAUSE_ECALL_U) {
    if (killed(p))
      exit(-1);
    p->trapframe->epc += 4;   // return past the ecall
    intr_on();                // the registers are saved; interrupts may come
    syscall();
  } else if ((which = devintr()) != 0) {
    // handled
  } else if (scause == SCAUSE_LOAD_PAGE_FAULT || scause == SCAUSE_STORE_PAGE_FAULT ||
             scause == SCAUSE_INSN_PAGE_FAULT) {
    // Perhaps an mmap page not yet mapped, or a store to a clean shared
    // page; vm_fault may read the disk, so interrupts go back on.
    intr_on();
    int err = vm_fault(stval, scause == SCAUSE_STORE_PAGE_FAULT);
    if (err != 0)
      user_fault(p, scause, stval, err);
  } else {
    user_fault(p, scause, stval, 0);
  }

  if (killed(p))
    exit(-1);
  if (which == 2)
    yield();
  usertrapret();
}

// Return to user mode through userret in the trampoline.
void
usertrapret(void)
{
  struct proc *p = myproc();

  // From here until sret, a trap would go to the wrong handler.
  intr_off();
  uint64 trampoline_uservec = TRAMPOLINE + (uservec - trampoline);
  csr_write(stvec, trampoline_uservec);

  // What uservec needs to come back into the kernel.
  p->trapframe->kernel_satp = csr_read(satp);
  p->trapframe->kernel_sp = p->kstack + KSTACK_PAGES * PGSIZE;
  p->trapframe->kernel_trap = (uint64)usertrap;
  p->trapframe->kernel_hartid = r_tp();

  // sret goes to user mode with interrupts on and the FPU off.
  uint64 x = csr_read(sstatus);
  x &= ~(SSTATUS_SPP | SSTATUS_FS_MASK);
  x |= SSTATUS_SPIE;
  csr_write(sstatus, x);
  csr_write(sepc, p->trapframe->epc);

  uint64 satp = MAKE_SATP(p->pagetable);
  uint64 trampoline_userret = TRAMPOLINE + (userret - trampoline);
  __atomic_store_n(&mycpu()->in_user, 1, __ATOMIC_SEQ_CST);
  ((void (*)(uint64))trampoline_userret)(satp);
}

// A trap from supervisor mode, entered from kernelvec.  Only interrupts are
// expected; anything else is a kernel bug.
void
kerneltrap(void)
{
  uint64 sepc = csr_read(sepc);
  uint64 sstatus = csr_read(sstatus);
  uint64 scause = csr_read(scause);

  if ((sstatus & SSTATUS_SPP) == 0)
    panic("kerneltrap: not from supervisor mode");
  if (intr_get())
    panic("kerneltrap: interrupts enabled");

  int which = devintr();
  if (which == 0)
    panic("kernel trap: %s (scause %p) at pc %p, address %p", cause_name(scause),
          (void *)scause, (void *)sepc, (void *)csr_read(stval));

  if (which == 2 && myproc() != 0)
    yield();

  // yield() may have run other code that trapped; restore what sret uses.
  csr_write(sepc, sepc);
  csr_write(sstatus, sstatus);
}
