// Trace points.  See trace.h.
#include "types.h"
#include "lib/trace.h"

trace_probe_t trace_probe;

// Send every trace event to probe from now on (0: to nobody).
void
trace_attach(trace_probe_t probe)
{
  __atomic_store_n(&trace_probe, probe, __ATOMIC_RELEASE);
}
