// debug/: the code that exists to test, trace and measure the kernel.
//
// Nothing in mm/, fs/ or dev/ includes this folder; it stands on top of
// them.  Each file is one system call a test, a benchmark or a curious
// student uses:
//
//   wbctl.c    wbctl(2): one writeback with a chosen writeback_control
//   wbstat.c   wbstat(2): page-cache, writeback and disk counters
//   wbtrace.c  wbtrace(2): the ring of trace events (lib/trace.h)
//   rawdisk.c  rawdisk(2): direct I/O on a scratch disk, for benchmarks
//   profile.c  profile(2): the kernel profiler, sampling every hart from
//              machine mode (profvec.S); start() prepares each hart for it
//   blkhold.c  blkhold(2): hold data writes back, as a reordering disk would
#ifndef QUIRE_DEBUG_H
#define QUIRE_DEBUG_H

void wbctl_init(void);
void wbtrace_init(void);
void profile_init(void);
void blkhold_init(void);

#endif
