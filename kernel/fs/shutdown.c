// Shutting the file system down when the disk fails it.
//
// A disk error on metadata that the file system must write (a log block,
// the log header, a home block) or on a FLUSH leaves it unsure what the
// disk holds, so it stops writing altogether: Linux's ext4 does the same
// ("errors=remount-ro").  From then on nothing is written to the disk, so
// what was committed before the error stays as it was, and the log,
// replayed at the next mount, still holds every transaction that
// committed.  System calls that would change the file system fail with
// EROFS, the data-integrity calls with EIO; reading what is in memory
// goes on working.
#include "types.h"
#include "lib/lib.h"
#include "uapi/errno.h"
#include "fs/fs.h"

static int shut;                 // set once, never cleared
static uint shut_block;          // the block whose write failed (or 0)

/**
 * fs_shutdown - stop writing to the disk for good
 * @why: what failed, for the console ("writing the log header")
 * @blockno: the disk block concerned, or 0 (a FLUSH)
 *
 * Says once on the console which block failed and why.
 */
void
fs_shutdown(const char *why, uint blockno)
{
  if (__atomic_exchange_n(&shut, 1, __ATOMIC_SEQ_CST))
    return;
  shut_block = blockno;
  if (blockno)
    printf("fs: disk error %s (block %d): the file system is now read-only\n", why, blockno);
  else
    printf("fs: disk error %s: the file system is now read-only\n", why);
}

// Has the file system shut down?
int
fs_is_shut_down(void)
{
  return __atomic_load_n(&shut, __ATOMIC_SEQ_CST);
}

// For a system call about to change the file system: 0, or -EROFS once
// it has shut down.
int
fs_check_writable(void)
{
  return fs_is_shut_down() ? -EROFS : 0;
}
