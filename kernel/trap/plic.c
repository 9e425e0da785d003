// The PLIC, the platform-level interrupt controller: routes device
// interrupts (UART, virtio) to harts.  Each hart's supervisor context
// enables the sources it takes and claims each interrupt before handling it.
#include "types.h"
#include "memlayout.h"
#include "trap/trap.h"
#include "proc/proc.h"

#define REG(addr) (*(volatile uint32 *)(addr))

void
plicinit(void)
{
  // A non-zero priority turns a source on.
  REG(PLIC_PRIORITY(UART0_IRQ)) = 1;
  for (int slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++)
    REG(PLIC_PRIORITY(VIRTIO_IRQ(slot))) = 1;
}

void
plicinithart(void)
{
  int hart = cpuid();
  uint32 mask = 1U << UART0_IRQ;

  for (int slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++)
    mask |= 1U << VIRTIO_IRQ(slot);
  REG(PLIC_SENABLE(hart)) = mask;
  REG(PLIC_SPRIORITY(hart)) = 0;   // accept every priority above 0
}

// The pending interrupt with the highest priority, or 0.
int
plic_claim(void)
{
  return REG(PLIC_SCLAIM(cpuid()));
}

void
plic_complete(int irq)
{
  REG(PLIC_SCLAIM(cpuid())) = irq;
}
