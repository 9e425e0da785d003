// Interrupting other harts.
//
// A hart with nothing to run waits in wfi until an interrupt comes.  When
// another hart makes a process runnable, the idle hart should run it now,
// not at its next timer tick, up to 10 ms later.  QEMU's virt machine with
// -machine aclint=on has a device for this, the ACLINT SSWI: writing 1 to
// hart h's register raises a supervisor software interrupt on hart h.
// Without the device (an older QEMU command line) everything still works,
// only with that tick of delay.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "trap/ipi.h"
#include "proc/proc.h"

uint64 sswi_base;

void
ipi_send(int hart)
{
  if (sswi_base && hart >= 0 && hart < NCPU)
    ((volatile uint32 *)sswi_base)[hart] = 1;
}

// A process just became runnable: wake one idle hart to run it.
void
ipi_wake_idle(void)
{
  if (sswi_base == 0)
    return;
  int me = cpuid_safe();
  for (int h = 0; h < NCPU; h++) {
    if (h != me && __atomic_load_n(&cpus[h].idle, __ATOMIC_SEQ_CST)) {
      ipi_send(h);
      return;
    }
  }
}
