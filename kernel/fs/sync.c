// Making file-system state durable: the data-integrity calls.
//
// Each has three parts: write the dirty data and wait for it (page cache),
// commit the metadata that points at it (log_force), and empty the disk's
// volatile write cache (blk_flush) so that all of it survives a power cut.
#include "types.h"
#include "lib/lib.h"
#include "dev/blk.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "fs/log.h"
#include "fs/sync.h"
#include "mm/pagemap.h"

// Everything written so far reaches stable storage.  0 or -EIO.
//
// sync(2): a WB_SYNC_NONE pass starts writes everywhere at once, then a
// WB_SYNC_ALL pass writes what was redirtied and waits for all of it.
int
sync_all(void)
{
  sync_inodes(0);
  int err = sync_inodes(1);
  log_force();
  int ferr = blk_flush();
  return err ? err : ferr;
}

// fsync(2) and fdatasync(2): the file's data and the metadata needed to
// read it back reach stable storage.  Quire keeps no timestamps, so the
// two are the same.  Returns 0, or -EIO once per open file after a
// writeback error.
int
vfs_fsync(struct file *f, int datasync)
{
  int err = file_write_and_wait_range(f, 0, LLONG_MAX);
  log_force();
  int ferr = blk_flush();
  return err ? err : ferr;
}
