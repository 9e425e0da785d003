// errseq_t: a writeback error that each observer sees exactly once.
//
// A mapping records the last writeback error in an errseq_t; every open
// file keeps the value it last saw.  The value packs three things:
//
//   bits  0..11  the error number (positive here), 0 if none ever
//   bit  12      SEEN: some observer has reported this error
//   bits 13..31  a counter, bumped when a new error arrives after the
//                previous one was seen
//
// So an observer that sampled the value before an error sees a difference
// and reports the error once; after reporting it samples the new value and
// is quiet until the next error.  A file opened after an error that nobody
// has seen yet samples 0 and therefore still reports it.
#ifndef QUIRE_ERRSEQ_H
#define QUIRE_ERRSEQ_H

#include "types.h"

typedef uint32 errseq_t;

errseq_t errseq_set(errseq_t *eseq, int err);
errseq_t errseq_sample(errseq_t *eseq);
int errseq_check(errseq_t *eseq, errseq_t since);
int errseq_check_and_advance(errseq_t *eseq, errseq_t *since);

#endif
