// Trace points: where the kernel says "this just happened".
//
// mm/, fs/ and dev/ report page-cache and writeback events with
// trace_event() (the kinds are in uapi/wbtrace.h).  Whoever wants them
// attaches one probe with trace_attach(); the writeback trace ring in
// debug/wbtrace.c does so at boot.  The subsystems never depend on the
// tracer: with no probe attached a trace point is one load and a branch.
#ifndef QUIRE_TRACE_H
#define QUIRE_TRACE_H

#include "types.h"
#include "uapi/wbtrace.h"

typedef void (*trace_probe_t)(int type, uint32 ino, uint64 index, int64 aux, int mode);

extern trace_probe_t trace_probe;

static inline void
trace_event(int type, uint32 ino, uint64 index, int64 aux, int mode)
{
  trace_probe_t probe = __atomic_load_n(&trace_probe, __ATOMIC_ACQUIRE);

  if (probe)
    probe(type, ino, index, aux, mode);
}

void trace_attach(trace_probe_t probe);

#endif
