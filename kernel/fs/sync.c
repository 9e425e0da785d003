// Making file-system state durable.
//
// File data is written to its blocks as write(2) runs, so what is left to
// do is commit the metadata (log_force) and empty the disk's volatile
// write cache (blk_flush).
#include "types.h"
#include "lib/lib.h"
#include "dev/blk.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "fs/log.h"
#include "fs/sync.h"

// Everything written so far reaches stable storage.  0 or -EIO.
int
sync_all(void)
{
  log_force();
  return blk_flush();
}

// The file's data and the metadata needed to read it reach stable storage.
int
vfs_fsync(struct file *f, int datasync)
{
  log_force();
  return blk_flush();
}
