// The writeback tunables (see uapi/sysctl.h for their meaning).
#ifndef QUIRE_SYSCTL_H
#define QUIRE_SYSCTL_H

#include "types.h"

struct vm_tunables {
  int64 dirty_writeback_centisecs;
  int64 dirty_expire_centisecs;
  int64 dirty_background_ratio;
  int64 dirty_ratio;
  int64 commit_centisecs;
};

extern struct vm_tunables vm_tunables;

#endif
