// The kernel's entry in supervisor mode: hart 0 sets everything up while
// the other harts wait, then every hart enters the scheduler.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "lib/lib.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "trap/trap.h"
#include "trap/ipi.h"
#include "dev/console.h"
#include "dev/blk.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/reclaim.h"
#include "mm/mmap.h"
#include "mm/writeback.h"
#include "debug/debug.h"
#include "fs/buf.h"
#include "fs/fs.h"
#include "fs/file.h"

static volatile int started = 0;

extern uint64 boot_fdt;        // boot/start.c
uint64 fdt_ram_end(uint64 fdt);
uint64 fdt_sswi(uint64 fdt);
uint64 phystop;

// How much RAM there is: QEMU's -m, from the device tree; at most MAXRAM.
static void
find_ram(void)
{
  uint64 ram_end = fdt_ram_end(boot_fdt);

  if (ram_end <= KERNBASE)
    ram_end = KERNBASE + 128L * 1024 * 1024;   // no device tree: assume 128 MiB
  phystop = MIN(ram_end, KERNBASE + MAXRAM);
  sswi_base = fdt_sswi(boot_fdt);
}

void
kmain(void)
{
  if (cpuid() == 0) {
    consoleinit();
    printf_init();
    printf("\nquire kernel is booting\n");
    find_ram();
    kinit();          // physical pages
    kvminit();        // the kernel page table
    kvminithart();    // turn on paging
    proc_init();      // the process table
    trapinit();
    trapinithart();   // trap vector
    plicinit();       // interrupt controller
    plicinithart();
    folio_init();     // folio wait locks
    pagecache_init(); // xarray nodes
    reclaim_init();   // the LRU list
    mmap_init();      // mmap regions
    wbctl_init();     // wbctl(2)
    wbtrace_init();   // the writeback trace ring, attached to the trace points
    profile_init();   // the kernel profiler, profile(2)
    blkhold_init();   // blkhold(2)
    binit();          // buffer cache
    iinit();          // inode table
    fileinit();       // file table
    rename_init();
    fs_writeback_init();
    blk_init();       // the disk
    userinit();       // the first process; it mounts the file system
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    started = 1;
  } else {
    while (started == 0)
      ;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    kvminithart();
    trapinithart();
    plicinithart();
  }
  scheduler();
}
