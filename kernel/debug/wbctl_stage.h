// The races wbctl(2) stages for the writeback iterator's tests (wbctl_stage.c).
#ifndef QUIRE_WBCTL_STAGE_H
#define QUIRE_WBCTL_STAGE_H

#include "types.h"

struct address_space;
struct stage;

void stage_clean(struct address_space *mapping, pgoff_t index);
void stage_dirty(struct address_space *mapping, pgoff_t index);
void tidy_marks(struct address_space *mapping);
struct stage *stage_busy(struct address_space *mapping, pgoff_t index, uint64 nticks);
struct stage *stage_detach(struct address_space *mapping, pgoff_t index);
int stage_finish(struct stage *s);

#endif
