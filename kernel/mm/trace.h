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
struct address_space;
void account_tagged(struct address_space *mapping, pgoff_t start, pgoff_t end);

#endif
