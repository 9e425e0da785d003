// Machine-mode start-up: runs once per hart, then drops to supervisor mode.
//
// The kernel runs in supervisor mode.  Before it can, machine mode has to
// hand over what only it controls: which traps supervisor mode handles,
// which physical memory it may touch (PMP), and the timer (Sstc lets
// supervisor mode program its own timer through the stimecmp register).
#include "types.h"
#include "param.h"
#include "riscv.h"

void kmain(void);
void profile_mstart(uint64 hart);   // debug/profile.c

// The device tree QEMU handed to hart 0, for kmain to read.
uint64 boot_fdt;

void
start(uint64 hartid, uint64 fdt)
{
  if (hartid == 0)
    boot_fdt = fdt;

  // mret will "return" to kmain in supervisor mode.
  uint64 ms = csr_read(mstatus);
  ms = (ms & ~MSTATUS_MPP_MASK) | MSTATUS_MPP_S;
  csr_write(mstatus, ms);
  csr_write(mepc, (uint64)kmain);

  // No paging until the kernel sets up its page table.
  csr_write(satp, 0);

  // Every exception and interrupt goes to supervisor mode.
  csr_write(medeleg, 0xffff);
  csr_write(mideleg, 0xffff);
  csr_set(sie, SIE_SEIE | SIE_STIE | SIE_SSIE);

  // One PMP region covering all of physical memory, all permissions.
  csr_write(pmpaddr0, 0x3fffffffffffffUL);
  csr_write(pmpcfg0, 0xf);

  // Supervisor mode owns the timer; the first tick comes at once.
  csr_set(menvcfg, MENVCFG_STCE);
  csr_set(mcounteren, COUNTEREN_TM);
  csr_write(stimecmp, r_time() + 1);

  // The machine timer belongs to the kernel profiler (debug/profile.c),
  // silent until a profile starts; it is the only trap machine mode sees.
  profile_mstart(hartid);

  // Each hart keeps its id in tp, where cpuid() finds it.
  w_tp(csr_read(mhartid));

  asm volatile("mret");
}
