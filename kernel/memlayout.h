// Physical and virtual memory layout.
//
// QEMU's virt machine puts devices below 0x80000000 and RAM above:
//   0x00100000  test device: a write powers the machine off
//   0x0C000000  PLIC, the interrupt controller
//   0x10000000  UART0 (16550)
//   0x10001000  eight virtio-mmio slots, 0x1000 apart
//   0x80000000  RAM; -bios none makes QEMU jump here in machine mode
//
// The kernel maps devices and RAM at their physical addresses (direct map),
// so kernel pointers are physical addresses.  Above that, near MAXVA, every
// address space has the trampoline page, and the kernel's address space has
// one stack per process, each with an unmapped guard page below it.
//
// A user address space, from the bottom:
//   0 .. USERBASE       unmapped, so NULL pointer use faults
//   USERBASE ..         text, data, bss; a guard page; the stack; the heap
//   MMAPBASE .. MMAPTOP mmap regions
//   TRAPFRAME           the process's saved registers (not user-accessible)
//   TRAMPOLINE          the trap entry/exit code (not user-accessible)
#ifndef QUIRE_MEMLAYOUT_H
#define QUIRE_MEMLAYOUT_H

#include "riscv.h"

#define TESTDEV     0x00100000L
#define PLIC        0x0C000000L
#define UART0       0x10000000L
#define UART0_IRQ   10
#define VIRTIO_MMIO_BASE  0x10001000L
#define VIRTIO_MMIO_SLOTS 8
#define VIRTIO_MMIO_SIZE  0x1000
#define VIRTIO_IRQ(slot)  (1 + (slot))

#define PLIC_PRIORITY(irq)  (PLIC + 4 * (irq))
#define PLIC_SENABLE(hart)  (PLIC + 0x2080 + (hart) * 0x100)
#define PLIC_SPRIORITY(hart) (PLIC + 0x201000 + (hart) * 0x2000)
#define PLIC_SCLAIM(hart)   (PLIC + 0x201004 + (hart) * 0x2000)

#define KERNBASE 0x80000000L
// RAM ends at PHYSTOP, read from the device tree QEMU passes at boot
// (boot/fdt.c): QEMU's -m decides.  Quire uses at most MAXRAM of it.
#define MAXRAM   (2048L * 1024 * 1024)
#ifndef __ASSEMBLER__
extern uint64 phystop;
#endif
#define PHYSTOP  phystop

#define TRAMPOLINE (MAXVA - PGSIZE)
#define TRAPFRAME  (TRAMPOLINE - PGSIZE)
// Kernel stack of process slot i, with a guard page below each.
#define KSTACK_PAGES 4
#define KSTACK(i) (TRAMPOLINE - ((i) + 1) * (KSTACK_PAGES + 1) * PGSIZE)

#define USERBASE  0x10000L
#define MMAPBASE  0x2000000000L
#define MMAPTOP   0x3000000000L

#endif
