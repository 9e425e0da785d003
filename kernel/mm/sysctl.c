// sysctl(2): the writeback tunables.
//
// The defaults are Linux's, which suit a 128 MiB machine well enough: the
// flusher wakes every 5 s and writes data dirty for 30 s; background
// writeback starts when 10% of memory is dirty; writers are throttled at
// 20%.  Tests and students shorten them to watch things happen.
#include "types.h"
#include "uapi/errno.h"
#include "uapi/sysctl.h"
#include "lib/lib.h"
#include "mm/mm.h"
#include "mm/sysctl.h"
#include "proc/proc.h"
#include "proc/syscall.h"

struct vm_tunables vm_tunables = {
  .dirty_writeback_centisecs = 500,
  .dirty_expire_centisecs = 3000,
  .dirty_background_ratio = 10,
  .dirty_ratio = 20,
  .commit_centisecs = 500,
};

static const struct {
  int64 *value;
  int64 min, max;
} table[SYSCTL_MAX + 1] = {
  [SYSCTL_DIRTY_WRITEBACK_CENTISECS] = { &vm_tunables.dirty_writeback_centisecs, 0, 360000 },
  [SYSCTL_DIRTY_EXPIRE_CENTISECS] = { &vm_tunables.dirty_expire_centisecs, 0, 360000 },
  [SYSCTL_DIRTY_BACKGROUND_RATIO] = { &vm_tunables.dirty_background_ratio, 1, 100 },
  [SYSCTL_DIRTY_RATIO] = { &vm_tunables.dirty_ratio, 1, 100 },
  [SYSCTL_COMMIT_CENTISECS] = { &vm_tunables.commit_centisecs, 1, 360000 },
};

int64
sys_sysctl(void)
{
  int name = argint(0);
  int64 newval = argraw(1);
  uint64 oldp = argaddr(2);

  if (name < 1 || name > SYSCTL_MAX)
    return -EINVAL;
  if (newval != -1 && (newval < table[name].min || newval > table[name].max))
    return -EINVAL;
  int64 old = *table[name].value;
  if (oldp && copyout(myproc()->pagetable, oldp, &old, sizeof(old)) < 0)
    return -EFAULT;
  if (newval != -1)
    __atomic_store_n(table[name].value, newval, __ATOMIC_SEQ_CST);
  return 0;
}
