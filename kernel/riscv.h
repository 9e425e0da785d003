// RISC-V privileged architecture: control registers and page-table bits.
//
// csr_read()/csr_write() take the register's assembler name, so the code
// reads like the specification: csr_write(stvec, addr).
#ifndef QUIRE_RISCV_H
#define QUIRE_RISCV_H

#ifndef __ASSEMBLER__
#include "types.h"

#define csr_read(csr) ({ uint64 v_; asm volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, val) asm volatile("csrw " #csr ", %0" : : "r"((uint64)(val)))
#define csr_set(csr, bits) asm volatile("csrs " #csr ", %0" : : "r"((uint64)(bits)))
#define csr_clear(csr, bits) asm volatile("csrc " #csr ", %0" : : "r"((uint64)(bits)))

// mstatus / sstatus fields.
#define MSTATUS_MPP_MASK (3UL << 11)   // previous mode, for mret
#define MSTATUS_MPP_S    (1UL << 11)
#define SSTATUS_SPP      (1UL << 8)    // previous mode was supervisor
#define SSTATUS_SPIE     (1UL << 5)    // interrupts enabled before the trap
#define SSTATUS_SIE      (1UL << 1)    // supervisor interrupts enabled
#define SSTATUS_SUM      (1UL << 18)   // supervisor may touch user pages
#define SSTATUS_FS_MASK  (3UL << 13)   // floating point unit state (0 = off)

// sie / sip bits.
#define SIE_SSIE (1UL << 1)   // software
#define SIE_STIE (1UL << 5)   // timer
#define SIE_SEIE (1UL << 9)   // external (PLIC)

// scause values we handle.
#define SCAUSE_INTR           (1UL << 63)
#define SCAUSE_S_SOFTWARE     (SCAUSE_INTR | 1)
#define SCAUSE_S_TIMER        (SCAUSE_INTR | 5)
#define SCAUSE_S_EXTERNAL     (SCAUSE_INTR | 9)
#define SCAUSE_ECALL_U        8
#define SCAUSE_INSN_PAGE_FAULT  12
#define SCAUSE_LOAD_PAGE_FAULT  13
#define SCAUSE_STORE_PAGE_FAULT 15

// menvcfg.STCE lets supervisor mode program its own timer (Sstc).
#define MENVCFG_STCE (1UL << 63)
// mcounteren/scounteren.TM lets lower modes read the time CSR.
#define COUNTEREN_TM (1UL << 1)

static inline uint64 r_tp(void) { uint64 x; asm volatile("mv %0, tp" : "=r"(x)); return x; }
static inline void w_tp(uint64 x) { asm volatile("mv tp, %0" : : "r"(x)); }
static inline uint64 r_sp(void) { uint64 x; asm volatile("mv %0, sp" : "=r"(x)); return x; }
static inline uint64 r_time(void) { return csr_read(time); }

static inline void intr_on(void) { csr_set(sstatus, SSTATUS_SIE); }
static inline void intr_off(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline int intr_get(void) { return (csr_read(sstatus) & SSTATUS_SIE) != 0; }

// Flush the whole TLB of this hart.
static inline void sfence_vma(void) { asm volatile("sfence.vma zero, zero"); }

#endif // __ASSEMBLER__

// ---- Sv39 paging: three levels of 512 entries, 39-bit virtual addresses.

#define PGSIZE 4096
#define PGSHIFT 12
#define PGROUNDUP(a)   (((a) + PGSIZE - 1) & ~((uint64)PGSIZE - 1))
#define PGROUNDDOWN(a) ((a) & ~((uint64)PGSIZE - 1))

#define PTE_V (1L << 0)   // valid
#define PTE_R (1L << 1)
#define PTE_W (1L << 2)
#define PTE_X (1L << 3)
#define PTE_U (1L << 4)   // user mode may access
#define PTE_A (1L << 6)   // accessed (QEMU sets it; we preset A and D)
#define PTE_D (1L << 7)   // dirty

#define PA2PTE(pa) ((((uint64)(pa)) >> 12) << 10)
#define PTE2PA(pte) (((pte) >> 10) << 12)
#define PTE_FLAGS(pte) ((pte) & 0x3FF)

#define PXSHIFT(level) (PGSHIFT + 9 * (level))
#define PX(level, va) ((((uint64)(va)) >> PXSHIFT(level)) & 0x1FF)

// One past the highest virtual address.  Sv39 allows 2^39, but addresses
// with bit 38 set must be sign-extended; staying below 2^38 avoids that.
#define MAXVA 0x4000000000   // 1 << 38; no suffix, so assembly can use it

#define SATP_SV39 (8L << 60)
#define MAKE_SATP(pagetable) (SATP_SV39 | (((uint64)(pagetable)) >> 12))

#endif
