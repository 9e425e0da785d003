// sysctl(2): the writeback tunables, read and set at run time.
//
//   sysctl(name, newval, &oldval)
// stores the current value in oldval (unless the pointer is 0), then sets
// it to newval unless newval is -1.  Fails with EINVAL for an unknown name
// or a value out of range.
#ifndef QUIRE_UAPI_SYSCTL_H
#define QUIRE_UAPI_SYSCTL_H

// How often the flusher wakes to write old dirty data (centiseconds;
// 0 turns periodic writeback off).
#define SYSCTL_DIRTY_WRITEBACK_CENTISECS 1
// Dirty data older than this is written by the periodic writeback
// (centiseconds).
#define SYSCTL_DIRTY_EXPIRE_CENTISECS    2
// Percent of memory that may be dirty before background writeback starts.
#define SYSCTL_DIRTY_BACKGROUND_RATIO    3
// Percent of memory that may be dirty before writers are throttled.
#define SYSCTL_DIRTY_RATIO               4
// How often the log commits metadata on its own (centiseconds).
#define SYSCTL_COMMIT_CENTISECS          5

#define SYSCTL_MAX                       5

#endif
