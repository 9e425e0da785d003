// Dirty throttling: keeping writers from filling memory with dirty pages.
#ifndef QUIRE_THROTTLE_H
#define QUIRE_THROTTLE_H

#include "types.h"

struct address_space;

void balance_dirty_pages_ratelimited(struct address_space *mapping);
extern uint64 nr_throttled;

#endif
