// The writeback trace ring (see uapi/wbtrace.h).
#ifndef QUIRE_TRACE_H
#define QUIRE_TRACE_H

#include "types.h"
#include "uapi/wbtrace.h"

struct folio;
struct writeback_control;

void trace_init(void);
void trace_event(int type, uint32 ino, uint64 index, int64 aux, int mode);
void trace_folio(int type, struct folio *folio);
int wbc_trace_mode(struct writeback_control *wbc);

#endif
