// profile(2): the kernel profiler's samples (debug/profile.c).
//
//   profile(PROF_START, hz, 0, 0)   forget old samples, then sample every
//                                   hart hz times a second (0: PROF_HZ)
//   profile(PROF_STOP, 0, 0, 0)     stop sampling; returns the samples taken
//   profile(PROF_READ, first, buf, n)  copy up to n samples from sample
//                                   number first into buf; returns how many
//   profile(PROF_INFO, 0, buf, 0)   copy a struct prof_info into buf
//
// A sample is what one hart was doing when the machine-mode timer fired:
// the privilege mode, the program counter and, in the kernel, the return
// addresses of the calls that led there, read from the frame-pointer
// chain (the kernel is built with -fno-omit-frame-pointer).
#ifndef QUIRE_UAPI_PROFILE_H
#define QUIRE_UAPI_PROFILE_H

#define PROF_START 0
#define PROF_STOP  1
#define PROF_READ  2
#define PROF_INFO  3

#define PROF_HZ    2000   // default samples per second per hart
#define PROF_DEPTH 7      // pc and up to 6 return addresses

#define PROF_MODE_USER   0
#define PROF_MODE_KERNEL 1

struct prof_sample {
  unsigned int hart;
  unsigned int mode;                 // PROF_MODE_*
  unsigned long pc[PROF_DEPTH];      // pc[0] where it was; then callers; 0 ends
};

struct prof_info {
  unsigned long samples;      // taken (up to the buffer's size)
  unsigned long dropped;      // not kept: the buffer was full
  unsigned long idle;         // of idle harts (in wfi): counted, not kept
  unsigned long hz;           // the rate asked for
  unsigned long handler_ticks;  // time (10 MHz ticks) spent inside the sampler
  unsigned long start_ticks, stop_ticks;   // when sampling started, stopped
};

#endif
