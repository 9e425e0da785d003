// Stopping the machine.  QEMU's virt board has a "test finisher" device:
// writing 0x5555 ends QEMU with exit status 0, and (code << 16) | 0x3333
// ends it with status code.  Tests rely on this to finish without killing
// QEMU.
#include "types.h"
#include "memlayout.h"
#include "lib/lib.h"

#define FINISHER_PASS 0x5555
#define FINISHER_FAIL 0x3333

void
poweroff(int code)
{
  volatile uint32 *finisher = (uint32 *)TESTDEV;

  printf("quire: power off\n");
  *finisher = code == 0 ? FINISHER_PASS : ((uint32)code << 16) | FINISHER_FAIL;
  for (;;)
    asm volatile("wfi");
}
