// Making file-system state durable.  Every data-integrity call ends up
// here, so that the promise they make is kept in one place:
//
//   when fsync, fdatasync, msync(MS_SYNC), sync or syncfs returns 0, the
//   data it covers, and the metadata needed to read that data back,
//   survive a power cut.
//
// Three steps, in this order:
//
//   1. write the dirty data and wait for it, including writes someone
//      else (the flusher, another process) had already started: a
//      completed write is the only kind a FLUSH makes durable
//   2. commit the metadata that points at the data (log_force): block
//      pointers and sizes that writeback changed
//   3. empty the disk's volatile write cache (blk_flush)
//
// Step 3 is needed even when step 2 found nothing to commit: the data
// writes of step 1 may still sit in the disk's cache.  It is needed
// whenever any write has completed since the last FLUSH
// (blk_flush_needed), and only then: an fsync with nothing dirty, nothing
// in flight and nothing to commit sends the disk nothing at all.
#include "types.h"
#include "lib/lib.h"
#include "uapi/errno.h"
#include "uapi/fcntl.h"
#include "dev/blk.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "fs/log.h"
#include "fs/sync.h"
#include "mm/pagemap.h"
#include "mm/writeback.h"

// Step 3: a FLUSH.  0, or -EIO: the disk failed it, which shuts the file
// system down: what the disk's cache held may be lost, and nothing
// written later could be promised either.
static int
flush_disk_cache(void)
{
  if (blk_flush() != 0) {
    fs_shutdown("flushing the disk's cache", 0);
    return -EIO;
  }
  return 0;
}

// Steps 2 and 3, for sync.  0, or -EIO: the file system has shut down (a
// failed commit), or the FLUSH failed.
static int
commit_and_flush(void)
{
  if (log_force() != 0)
    return -EIO;
  return flush_disk_cache();
}

/**
 * vfs_fsync_range - make a byte range of an open file durable
 * @file: the open file
 * @start: first byte
 * @end: last byte (inclusive)
 * @datasync: fdatasync: only the metadata needed to read the data back
 *            (Quire keeps no timestamps, so this is all of it anyway)
 *
 * Serves fsync(2), fdatasync(2) and msync(MS_SYNC).  An error of the
 * data does not stop the rest: what can be made durable still is.
 * Return: 0, or -EIO: a writeback error this open file has not seen yet
 * (reported once per open file; the first error wins), or a failed
 * commit or FLUSH.
 */
int
vfs_fsync_range(struct file *file, loff_t start, loff_t end, int datasync)
{
// LAB(crash) BEGIN vfs_fsync_range
#ifndef LAB_STARTER
  // 1. The data: write what is dirty now, and wait for every write of the
  //    range in flight, those the flusher started too.
  int err = file_write_and_wait_range(file, start, end);
  // 2. The metadata that points at it: a size, block pointers.  fdatasync
  //    needs them as much as fsync does.  An empty log costs nothing.
  int ferr = log_force();
  // 3. The disk's cache, if a write completed since the last FLUSH: the
  //    data of step 1 (or the flusher's, done before this call), or the
  //    commit's empty header.
  if (ferr == 0 && blk_flush_needed())
    ferr = flush_disk_cache();
  return err ? err : ferr;
#else
  // Write the file's dirty folios, wait for them, and commit.
  struct address_space *mapping = &file->ip->i_data;
  int err = 0;

  if (xa_marked(&mapping->i_pages, PAGECACHE_TAG_DIRTY))
    err = filemap_write_and_wait_range(mapping, start, end);
  int werr = file_check_and_advance_wb_err(file);
  log_force();
  return err ? err : werr;
#endif
// LAB(crash) END
}

int
vfs_fsync(struct file *file, int datasync)
{
  return vfs_fsync_range(file, 0, LLONG_MAX, datasync);
}

/**
 * sync_filesystem - make everything written so far durable (sync, syncfs)
 *
 * A WB_SYNC_NONE pass starts writes on every dirty inode at once, then a
 * WB_SYNC_ALL pass writes what was redirtied meanwhile and waits for all
 * of it, including writes the flusher had in flight.
 * Return: 0 or -EIO.
 */
int
sync_filesystem(void)
{
  sync_inodes(0);
  int err = sync_inodes(1);
  int ferr = commit_and_flush();

  return err ? err : ferr;
}

/**
 * sync_file_range - write and wait for part of a file, with Linux's flags
 * @file: the open file
 * @start: first byte
 * @end: last byte (inclusive)
 * @flags: SYNC_FILE_RANGE_WAIT_BEFORE: wait for writes already in flight;
 *         SYNC_FILE_RANGE_WRITE: start writing the dirty folios;
 *         SYNC_FILE_RANGE_WAIT_AFTER: wait for the writes just started
 *
 * Not a data-integrity call: it commits no metadata and sends no FLUSH.
 * With all three flags it is step 1 of one, as in Linux: the writes are
 * WB_SYNC_ALL, so a folio redirtied while under writeback is written
 * again.  A writeback error is reported (once per open file) by any call
 * that waits.
 * Return: 0 or -errno.
 */
int
sync_file_range(struct file *file, loff_t start, loff_t end, uint flags)
{
  const uint all = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                   SYNC_FILE_RANGE_WAIT_AFTER;
  struct address_space *mapping = &file->ip->i_data;
  int err = 0;

  if ((flags & all) == all)
    return file_write_and_wait_range(file, start, end);
  if (flags & SYNC_FILE_RANGE_WAIT_BEFORE)
    filemap_fdatawait_range(mapping, start, end);
  if (flags & SYNC_FILE_RANGE_WRITE)
    err = filemap_fdatawrite_range(mapping, start, end, WB_SYNC_NONE);
  if (flags & SYNC_FILE_RANGE_WAIT_AFTER)
    filemap_fdatawait_range(mapping, start, end);
  if (flags & (SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER)) {
    int err2 = file_check_and_advance_wb_err(file);
    if (!err)
      err = err2;
  }
  return err;
}
